import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { QueueRole, TaskQueues } from '../contract/task-queues';

/**
 * A poller the server saw longer ago than this is a stopped worker: the server remembers
 * pollers for minutes, and a live one re-polls at least once per long-poll (about a minute).
 */
const LIVE_POLLER_MS = 90_000;

/** The queue roles (of `roles`) that no live worker polls on `namespace`. */
export async function rolesWithoutPollers(client: Client, namespace: string, queues: TaskQueues, roles: QueueRole[]): Promise<QueueRole[]> {
  const missing: QueueRole[] = [];
  for (const role of roles) {
    const response = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: queues[role], kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      // The workflows queue also serves the store activities, from the same worker.
      taskQueueType: role === 'workflows' ? temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    const now = Date.now();
    const live = (response.pollers ?? []).filter((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      return seconds === 0 || now - seconds * 1000 < LIVE_POLLER_MS;
    });
    if (live.length === 0) missing.push(role);
  }
  return missing;
}

/**
 * Waits up to `timeoutMs` for workers on every needed queue (a worker started a moment ago may
 * not have polled yet), then fails naming the queues nobody serves and how to serve them.
 */
export async function requirePollers(
  client: Client,
  options: { namespace: string; address: string; queues: TaskQueues; roles: QueueRole[]; prefix: string; timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const missing = await rolesWithoutPollers(client, options.namespace, options.queues, options.roles);
    if (missing.length === 0) return;
    if (Date.now() >= deadline) {
      const names = missing.map((r) => options.queues[r]).join(', ');
      throw new Error(
        [
          `workers: no worker polls task queue(s) ${names} on ${options.address} (namespace ${options.namespace}); this command needs ${options.roles.join(', ')} and would wait forever.`,
          `  Start them:  TEMPORAL_ADDRESS=${options.address} npm run worker -- --queues ${missing.join(',')} --task-queue-prefix ${options.prefix} --namespace ${options.namespace}`,
          '  or run them inside this command with --workers local.',
        ].join('\n'),
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}
