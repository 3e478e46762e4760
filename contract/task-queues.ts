/** Task queue names are settings: tests use unique ones, deployments may prefix them. */
export interface TaskQueues {
  workflows: string;
  /** Inference: its worker concurrency bounds the load on the inference server. */
  llm: string;
  /** Environments and the code sandbox (CPU bound). Sessions then move to a worker-specific queue. */
  env: string;
  /** One SFT job per GPU node. */
  train: string;
}

export type QueueRole = keyof TaskQueues;
export const QUEUE_ROLES: QueueRole[] = ['workflows', 'llm', 'env', 'train'];

/** The per-queue topology leafe runs on a cluster (docs/deploy.md): one process per role, two env workers. */
export const PER_QUEUE_WORKER_PROCESSES: QueueRole[] = ['workflows', 'env', 'env', 'llm', 'train'];

export function taskQueues(prefix = 'leafe'): TaskQueues {
  return { workflows: `${prefix}-workflows`, llm: `${prefix}-llm`, env: `${prefix}-env`, train: `${prefix}-train` };
}
