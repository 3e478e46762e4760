import { setWorkflowOptions } from '@temporalio/workflow';

/**
 * A plain error thrown by workflow code (a TypeError from malformed input, a RangeError from
 * core/pass-at-k) would fail the workflow *task*, which Temporal retries forever: the run hangs
 * with nothing to show but a stuck task. Every leafe workflow fails its *execution* instead, with
 * the error's name as the ApplicationFailure type and its message; nondeterminism still fails
 * only the task (a fixed worker can resume it). Workflow code is deterministic, so a retried task
 * would only throw again; a failed experiment resumes from its recorded stages on a re-run.
 */
export function failOnError(workflow: (...args: never[]) => Promise<unknown>): void {
  setWorkflowOptions({ failureExceptionTypes: [Error] }, workflow as (...args: unknown[]) => Promise<unknown>);
}
