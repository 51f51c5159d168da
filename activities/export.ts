import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { workerModelConfig } from '../src/config/run-config';
import type { ModelConfig } from '../src/config/schema';
import { failFast, JobContractError } from '../src/errors';
import { probeMaxBytes, probeSchema, readJsonFile } from '../src/jobs/contract';
import { scrubJobText } from '../src/jobs/local';
import { checkModelIsolated, checkParity, copyModelForCheck, openSession } from '../src/onnx';
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
      configDigest?: string;
      modelDigest?: string;
    }): Promise<ExportedModel> {
      return failFast(async () => {
        const ctx = Context.current();
        // The limits, inputs and task are the worker's own (input.export is the run's copy, for display).
        const { export: limits, features, task } = workerModelConfig(deps.config, input);
        const modelPath = path.join(input.job.outputDir, 'model.onnx');
        const probePath = path.join(input.job.outputDir, 'probe.json');
        if (!existsSync(modelPath)) throw new JobContractError(`training job ${input.job.jobId} wrote no model.onnx in ${input.job.outputDir}`);
        if (!existsSync(probePath)) throw new JobContractError(`training job ${input.job.jobId} wrote no probe.json in ${input.job.outputDir}`);
        const modelName = `model.onnx of ${input.job.role}`;
        // Checked in this order, so nothing a job wrote reaches the store before it passed: size (before a byte is
        // copied), then a private copy the job cannot change, opened first in a child process with memory and time
        // limits (a hostile file cannot take the worker down), then parity; only then is that copy stored.
        const checkDir = await mkdtemp(path.join(os.tmpdir(), 'relearn-model-check-'));
        try {
          const copy = await copyModelForCheck({ srcPath: modelPath, destDir: checkDir, maxSizeBytes: limits.maxSizeBytes, modelName });
          const check = await checkModelIsolated({
            modelPath: copy.path,
            modelName,
            maxSizeBytes: limits.maxSizeBytes,
            memoryLimitBytes: limits.memoryLimitBytes,
            timeoutMs: limits.checkTimeoutMs,
            expectedInputs: features,
            task,
          });
          ctx.heartbeat({ checked: true });
          const parsedProbe = readJsonFile(probePath, probeSchema, probeMaxBytes(input.job.classes?.length ?? 1));
          if (!parsedProbe.ok) throw new JobContractError(`${probePath}: not a valid probe.json: ${scrubJobText(parsedProbe.error)}`);
          const session = await openSession(await readFile(copy.path));
          const table = await readTable(deps, input.snapshot);
          const parity = await checkParity({
            session,
            table,
            probeRows: parsedProbe.data.rows,
            features,
            task,
            expected: parsedProbe.data,
            tolerance: limits.parityTolerance,
          });
          const artifact = await deps.store.putFile('models', 'model.onnx', copy.path);
          if (artifact.sha256 !== copy.sha256) throw new Error(`${modelName}: the private copy changed before it was stored`);
          return {
            role: input.job.role,
            artifact,
            singleRowLatencyMs: check.singleRowLatencyMs,
            parityMaxAbsDiff: parity.maxAbsDiff,
            classes: input.job.classes,
          };
        } finally {
          await rm(checkDir, { recursive: true, force: true });
        }
      });
    },
  };
}
