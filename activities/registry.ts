import type { QueueRole } from '../workers/task-queues';
import { createPingActivities } from './ping-activities';

/** What activities need from the process that hosts them (injected, so tests and workers share it). */
export interface ActivityDeps {
  runDir: string;
  /** This worker's own env queue: sessions opened here are stepped through it (session affinity). */
  sessionQueue: string;
}

/** The activities each queue serves. Factories get their clients injected (HASH-style). */
export function activitiesFor(role: QueueRole, _deps: ActivityDeps): Record<string, (...args: never[]) => Promise<unknown>> {
  switch (role) {
    case 'workflows':
      return {};
    case 'llm':
      return { ...createPingActivities() };
    case 'env':
      return { ...createPingActivities() };
    case 'train':
      return { ...createPingActivities() };
  }
}
