// The workflow bundle is cached because webpack takes seconds and tests and the demo start workers often. A cached
// bundle is only as good as the list of inputs it is checked against, and workflows import from outside workflows/
// (shared contracts, seeded helpers), so the list is not guessed from folder names: it is the bundler's own list of
// files it read, saved beside the bundle as a manifest with a SHA-256 for each. Files under node_modules are left out
// of the list; package-lock.json stands for them.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Compiler, Configuration, NormalModule } from 'webpack';
import { z } from 'zod';

const PREFIX = 'workflow-bundle-';
const MANIFEST_SUFFIX = '.manifest.json';
/** Bundles kept per cache folder, the last used ones: a few, so switching branches back and forth does not rebundle every time. */
const KEEP_BUNDLES = 3;

const manifestSchema = z.object({
  version: z.literal(1),
  /** The workflows module the bundle was built from, relative to the root. */
  entry: z.string(),
  /** SHA-256 of package-lock.json, which pins everything the bundle takes from node_modules. */
  lockfileSha256: z.string(),
  /** Every project file the bundler read, relative to the root, sorted. */
  files: z.array(z.object({ path: z.string(), sha256: z.string() })),
});

/** What a cached bundle was built from. */
export type BundleManifest = z.infer<typeof manifestSchema>;

/** Where the workflows are and where their bundle is cached. */
export interface WorkflowBundleOptions {
  /** The module whose exported functions are the workflows, e.g. `<root>/workflows/index.ts`. */
  workflowsPath: string;
  /** The folder holding package-lock.json; manifest paths are relative to it. */
  root: string;
  /** The state folder; bundles go to its `cache/` folder. */
  stateDir: string;
}

/** A workflow bundle, its digest and whether it came from the cache. */
export interface CachedWorkflowBundle {
  code: string;
  digest: string;
  manifest: BundleManifest;
  fromCache: boolean;
  /** Path of the cached bundle; absent when a source file vanished while bundling, so nothing was cached. */
  file?: string;
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

function hashFile(file: string): string | undefined {
  try {
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/** The digest a manifest's bundle is stored under: any change of entry, lockfile or a file's content changes it. */
export function manifestDigest(manifest: BundleManifest): string {
  return sha256(JSON.stringify(manifest)).slice(0, 16);
}

function lockfileSha256(root: string): string {
  return hashFile(path.join(root, 'package-lock.json')) ?? 'none';
}

/** Reads a manifest; undefined when missing or not one this version wrote. */
function readManifest(file: string): BundleManifest | undefined {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Whether every input a manifest lists is still what it was when the bundle was built. */
function manifestStillHolds(manifest: BundleManifest, root: string, entry: string, lockSha: string): boolean {
  if (manifest.entry !== entry || manifest.lockfileSha256 !== lockSha) return false;
  return manifest.files.every((f) => hashFile(path.resolve(root, f.path)) === f.sha256);
}

/** Manifests in the cache folder, last used first. */
function cachedManifests(cacheDir: string): { digest: string; file: string; mtimeMs: number }[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(PREFIX) && n.endsWith(MANIFEST_SUFFIX))
    .flatMap((n) => {
      const file = path.join(cacheDir, n);
      try {
        return [{ digest: n.slice(PREFIX.length, -MANIFEST_SUFFIX.length), file, mtimeMs: statSync(file).mtimeMs }];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
}

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/**
 * Removes all but the last used few bundles. A file with no kept manifest (or a temporary file) is removed only if it is
 * older than the oldest kept manifest, so a bundle another process is writing, or has not yet given its manifest, survives.
 */
function pruneCache(cacheDir: string): void {
  const kept = cachedManifests(cacheDir).slice(0, KEEP_BUNDLES);
  if (kept.length === 0) return;
  const keptDigests = new Set(kept.map((m) => m.digest));
  const oldestKeptMs = Math.min(...kept.map((m) => m.mtimeMs));
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith(PREFIX)) continue;
    const digest = name.slice(PREFIX.length).split('.')[0] ?? '';
    if (keptDigests.has(digest) && !name.endsWith('.tmp')) continue;
    const file = path.join(cacheDir, name);
    try {
      if (statSync(file).mtimeMs < oldestKeptMs) unlinkSync(file);
    } catch {
      // Removed by another worker meanwhile.
    }
  }
}

/**
 * A webpack plugin that records the project files a compilation read. Each module's file is hashed just before webpack
 * reads it, so a file edited during bundling leaves a hash that no longer matches and the next start rebundles.
 */
class BundleInputsPlugin {
  readonly hashesBeforeRead = new Map<string, string>();
  fileDependencies: string[] = [];

  apply(compiler: Compiler): void {
    compiler.hooks.thisCompilation.tap('RelearnBundleInputs', (compilation) => {
      compilation.hooks.buildModule.tap('RelearnBundleInputs', (module) => {
        const file = (module as Partial<NormalModule>).resourceResolveData?.path;
        if (typeof file !== 'string') return;
        const hash = hashFile(file);
        if (hash) this.hashesBeforeRead.set(file, hash);
      });
    });
    compiler.hooks.afterCompile.tap('RelearnBundleInputs', (compilation) => {
      this.fileDependencies = [...compilation.fileDependencies];
    });
  }
}

/**
 * The manifest of a finished compilation: its project files (not node_modules, not folders) with their hashes.
 * Incomplete when a file the bundle read is gone already; such a bundle is used but not cached.
 */
function manifestOf(plugin: BundleInputsPlugin, realRoot: string, entry: string, lockSha: string): { manifest: BundleManifest; complete: boolean } {
  const files: BundleManifest['files'] = [];
  let complete = true;
  for (const file of plugin.fileDependencies) {
    if (file.split(path.sep).includes('node_modules')) continue;
    // The SDK generates the bundle's entry point in memory from the options, which the manifest's entry records.
    if (file.endsWith('-autogenerated-entrypoint.cjs')) continue;
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      complete = false;
      continue;
    }
    if (!isFile) continue; // webpack also lists the folders it walked to resolve symlinks.
    const hash = plugin.hashesBeforeRead.get(file) ?? hashFile(file);
    if (hash) files.push({ path: toPosix(path.relative(realRoot, file)), sha256: hash });
    else complete = false;
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { manifest: { version: 1, entry, lockfileSha256: lockSha, files }, complete };
}

/**
 * The workflow bundle for `workflowsPath`: the cached one when every file its manifest lists is unchanged, otherwise a
 * new bundle, cached with its manifest (each written to a temporary file, then renamed).
 */
export async function cachedWorkflowBundle(opts: WorkflowBundleOptions): Promise<CachedWorkflowBundle> {
  // webpack reports real paths; relative paths are taken against the real root so a symlinked root still matches.
  const realRoot = realpathSync(opts.root);
  const entry = toPosix(path.relative(realRoot, realpathSync(opts.workflowsPath)));
  const cacheDir = path.join(opts.stateDir, 'cache');
  const lockSha = lockfileSha256(realRoot);

  for (const candidate of cachedManifests(cacheDir)) {
    const manifest = readManifest(candidate.file);
    if (!manifest || !manifestStillHolds(manifest, realRoot, entry, lockSha)) continue;
    const file = path.join(cacheDir, `${PREFIX}${candidate.digest}.js`);
    let code: string;
    try {
      code = readFileSync(file, 'utf8');
    } catch {
      continue; // Pruned by another worker between listing and reading: look further, or rebundle.
    }
    try {
      // The manifest's mtime is its last use, which pruning goes by.
      const now = new Date();
      utimesSync(candidate.file, now, now);
    } catch {
      // Pruned meanwhile; the bundle read is still good.
    }
    return { code, digest: candidate.digest, manifest, fromCache: true, file };
  }

  const plugin = new BundleInputsPlugin();
  const bundle = await bundleWorkflowCode({
    workflowsPath: opts.workflowsPath,
    logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error },
    webpackConfigHook: (config: Configuration) => ({ ...config, plugins: [...(config.plugins ?? []), plugin] }),
  });
  const { manifest, complete } = manifestOf(plugin, realRoot, entry, lockSha);
  const digest = manifestDigest(manifest);
  if (!complete) return { code: bundle.code, digest, manifest, fromCache: false };
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `${PREFIX}${digest}.js`);
  // The bundle first, its manifest last: a manifest is only ever found beside a complete bundle.
  writeAtomically(file, bundle.code);
  writeAtomically(path.join(cacheDir, `${PREFIX}${digest}${MANIFEST_SUFFIX}`), `${JSON.stringify(manifest, null, 2)}\n`);
  pruneCache(cacheDir);
  return { code: bundle.code, digest, manifest, fromCache: false, file };
}
