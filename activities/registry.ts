import type { QueueRole } from '../contract/task-queues';
import { ArtifactStore } from '../infra/artifact-store';
import { createEnvironmentActivities } from './environment/environment-activities';
import { createInferenceActivities } from './inference/inference-activities';
import { CompletionJournal } from './inference/completion-journal';
import { createDeployActivities } from './deploy/deploy-activity';
import { createDistilActivities } from './distil/distil-activity';
import { createStoreActivities } from './store/store-activities';
import { createTrainActivities } from './train/train-activity';
import { createPingActivities } from './ping-activities';

/** What activities need from the process that hosts them (injected, so tests and workers share it). */
export interface ActivityDeps {
  runDir: string;
  /** This worker's own env queue: sessions opened here are stepped through it (session affinity). */
  sessionQueue: string;
  /** Per process: concurrent env steps and concurrent inference requests made by `takeStep`. */
  limits?: { envSteps?: number; inferenceRequests?: number };
}

/** The activities each queue serves. Factories get their clients injected (HASH-style). */
export function activitiesFor(role: QueueRole, deps: ActivityDeps): Record<string, (...args: never[]) => Promise<unknown>> {
  const store = ArtifactStore.forRunDir(deps.runDir);
  switch (role) {
    case 'workflows':
      // The orchestration worker also runs the small run-directory activities (trees, stage results, distil).
      return { ...createStoreActivities({ store, runDir: deps.runDir }), ...createDistilActivities({ store, runDir: deps.runDir }) };
    case 'llm':
      return { ...createPingActivities(), ...createInferenceActivities({ store }), ...createDeployActivities() };
    case 'env':
      return { ...createPingActivities(), ...createEnvironmentActivities({ store, sessionQueue: deps.sessionQueue, journal: CompletionJournal.forRunDir(deps.runDir), limits: deps.limits }) };
    case 'train':
      return { ...createPingActivities(), ...createTrainActivities({ runDir: deps.runDir }) };
  }
}
