// The demo's last lines: the run report of its newest version and the registry page, started in the background on
// the demo's own registry (the demo's process ends before anyone looks at it; `npx relearn ui --stop` stops it).
import type { LoadedConfig } from '../config';
import { openRegistry, registryFile } from '../registry';
import { writeRunReport } from '../report';
import { openArtifactStore } from '../store';
import { ensureBackgroundRegistryUi, webUiRunLink } from '../ui';

/** Writes the report of `ref` (default: the newest version) of the demo's model and returns its path and the page's address. */
export async function demoReport(loaded: LoadedConfig, ref: string | undefined, uiUrl: string | undefined): Promise<{ report: string; page: string }> {
  const registryPath = registryFile(loaded);
  const registry = openRegistry(loaded);
  try {
    const model = (await registry.listModels())[0]?.model;
    if (model === undefined) return { report: '(nothing registered)', page: '(nothing registered)' };
    const runLink = webUiRunLink(uiUrl, loaded.config.temporal.namespace);
    const written = await writeRunReport({ registry, store: openArtifactStore(loaded), model, ...(ref ? { ref } : {}), ...(runLink ? { runLink } : {}) });
    const ui = await ensureBackgroundRegistryUi({ configPath: loaded.configPath, stateDir: loaded.stateDir, registry: registryPath });
    return { report: written.path, page: `${ui.url}/models/${encodeURIComponent(model)}` };
  } finally {
    await registry.close();
  }
}
