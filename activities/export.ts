import { existsSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { ModelConfig } from '../src/config/schema';
import { failFast, JobContractError } from '../src/errors';
import { probeSchema, readJsonFile } from '../src/jobs/contract';
import { checkModelIsolated, checkParity, openSession } from '../src/onnx';
import { type ActivityDeps, readTable } from './deps';
import type { ArtifactRef, ExportedModel, TrainedJob } from '../src/contracts';

/** Export activities: check a job's ONNX (isolated load, I/O, parity, size, latency) and store its exact bytes. */
export function createExportActivities(deps: ActivityDeps) {
  return {
    async exportOnnx(input: {
      model: string;
      job: TrainedJob;
      task: ModelConfig['task'];
      features: ModelConfig['features'];
      snapshot: ArtifactRef;
      export: ModelConfig['export'];
    }): Promise<ExportedModel> {
      return failFast(async () => {
        const ctx = Context.current();
        const modelPath = path.join(input.job.outputDir, 'model.onnx');
        const probePath = path.join(input.job.outputDir, 'probe.json');
        if (!existsSync(modelPath)) throw new JobContractError(`training job ${input.job.jobId} wrote no model.onnx in ${input.job.outputDir}`);
        if (!existsSync(probePath)) throw new JobContractError(`training job ${input.job.jobId} wrote no probe.json in ${input.job.outputDir}`);
        // Copied into the store first, so every check below runs on exactly the bytes that would ship. The model is
        // opened first in a child process with memory and time limits: a hostile file cannot take the worker down.
        const artifact = await deps.store.putFile('models', 'model.onnx', modelPath);
        const storedPath = await deps.store.verifiedPath(artifact);
        const check = await checkModelIsolated({
          modelPath: storedPath,
          modelName: `model.onnx of ${input.job.role}`,
          maxSizeBytes: input.export.maxSizeBytes,
          memoryLimitBytes: input.export.memoryLimitBytes,
          timeoutMs: input.export.checkTimeoutMs,
          expectedInputs: input.features,
          task: input.task,
        });
        ctx.heartbeat({ checked: true });
        const parsedProbe = readJsonFile(probePath, probeSchema);
        if (!parsedProbe.ok) throw new JobContractError(`${probePath}: not a valid probe.json: ${parsedProbe.error}`);
        const session = await openSession(await deps.store.readVerified(artifact));
        const table = await readTable(deps, input.snapshot);
        const parity = await checkParity({
          session,
          table,
          probeRows: parsedProbe.data.rows,
          features: input.features,
          task: input.task,
          expected: parsedProbe.data,
          tolerance: input.export.parityTolerance,
        });
        return {
          role: input.job.role,
          artifact,
          singleRowLatencyMs: check.singleRowLatencyMs,
          parityMaxAbsDiff: parity.maxAbsDiff,
          classes: input.job.classes,
        };
      });
    },
  };
}
