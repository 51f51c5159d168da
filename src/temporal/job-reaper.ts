// The worker's reaper (src/jobs/reaper.ts) asks the Temporal server, over the worker's own connection, whether the
// run each running job was launched for is still open.
import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import type { JobLauncher } from '../jobs/launcher';
import { type ReapResult, type RunIsOpen, startJobReaper } from '../jobs/reaper';

const RUNNING = proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
/** gRPC's NOT_FOUND: the run is unknown (deleted after its retention period, or never existed), so it is not open. */
const GRPC_NOT_FOUND = 5;

/** Whether a run is open, by DescribeWorkflowExecution on `connection`. */
export function runIsOpenVia(connection: NativeConnection): RunIsOpen {
  return async (owner) => {
    try {
      const described = await connection.workflowService.describeWorkflowExecution({
        namespace: owner.namespace,
        execution: { workflowId: owner.workflowId, runId: owner.runId },
      });
      return described.workflowExecutionInfo?.status === RUNNING;
    } catch (err) {
      if ((err as { code?: number }).code === GRPC_NOT_FOUND) return false;
      throw err;
    }
  };
}

/** Starts the worker's reaper over `launchers`; the stopped jobs are logged with `log`. */
export function startWorkerJobReaper(
  connection: NativeConnection,
  launchers: () => readonly JobLauncher[],
  intervalMs: number,
  log: (message: string) => void = (message) => console.warn(message),
): { stop: () => Promise<void> } {
  return startJobReaper({
    launchers,
    runIsOpen: runIsOpenVia(connection),
    intervalMs,
    onResult: (result: ReapResult) => {
      for (const job of result.reaped) {
        log(`stopped training job ${job.handle.jobId} run ${job.handle.run} (${job.launcher}): its run ${job.owner.workflowId}/${job.owner.runId} is closed`);
      }
    },
  });
}
