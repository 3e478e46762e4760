import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { ExperimentSummary, Method } from '../../contract/experiment-config';
import { withTimeout } from './with-timeout';

/**
 * Every experiment's summary, polled through server restarts (a chaos run kills the server under
 * these calls: errors are waited out, never taken as the result). An experiment that ends other
 * than COMPLETED fails the wait with its status and reason.
 */
export async function waitForSummaries(handles: Map<Method, WorkflowHandle>, pollMs: number): Promise<ExperimentSummary[]> {
  const out: ExperimentSummary[] = [];
  for (const [method, h] of handles) {
    for (;;) {
      try {
        const d = await withTimeout(h.describe(), 5000);
        if (d.status.name === 'RUNNING') {
          await sleep(pollMs);
          continue;
        }
        if (d.status.name !== 'COMPLETED') {
          const reason = await h.result().then(
            () => '',
            (e: unknown) => `: ${e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e)}`,
          );
          throw new Error(`${method} experiment ${h.workflowId} ended ${d.status.name}${reason}`);
        }
        out.push((await withTimeout(h.result(), 30_000)) as ExperimentSummary);
        break;
      } catch (err) {
        if (err instanceof Error && / ended [A-Z_]+/.test(err.message)) throw err;
        await sleep(pollMs); // server restarting
      }
    }
  }
  return out;
}
