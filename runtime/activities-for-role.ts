import type { QueueRole } from '../contract/task-queues';
import { ArtifactStore } from '../infra/artifact-store';
import { createEnvironmentActivities } from '../activities/environment/environment-activities';
import { createInferenceActivities } from '../activities/inference/inference-activities';
import { CompletionJournal } from '../activities/inference/completion-journal';
import { createDeployActivities } from '../activities/deploy/deploy-activity';
import { createDistilActivities } from '../activities/distil/distil-activity';
import { createStoreActivities } from '../activities/store/store-activities';
import { createTrainActivities } from '../activities/train/train-activity';
import { createPingActivities } from '../activities/ping-activities';
import { providerFor } from '../envs/registry';
import { createInferenceClient } from '../inference/inference-client';
import { loadLoraAdapter } from '../inference/lora-deploy';
import { runTrainerCommand } from '../trainer/run-trainer-command';

/** What activities need from the process that hosts them (injected, so tests and workers share it). */
export interface ActivityDeps {
  runDir: string;
  /** This worker's own env queue: sessions opened here are stepped through it (session affinity). */
  sessionQueue: string;
  /** Per process: concurrent env steps and concurrent inference requests made by `takeStep`. */
  limits?: { envSteps?: number; inferenceRequests?: number };
}

/**
 * The activities each queue serves, with their adapters injected here (the one place that knows
 * them): the environments (envs/), the OpenAI-compatible inference client and LoRA loader
 * (inference/) and the trainer runner (trainer/).
 */
export function activitiesFor(role: QueueRole, deps: ActivityDeps): Record<string, (...args: never[]) => Promise<unknown>> {
  const store = ArtifactStore.forRunDir(deps.runDir);
  switch (role) {
    case 'workflows':
      // The orchestration worker also runs the small run-directory activities (trees, stage results, distil).
      return { ...createStoreActivities({ store, runDir: deps.runDir }), ...createDistilActivities({ store, runDir: deps.runDir }) };
    case 'llm':
      return { ...createPingActivities(), ...createInferenceActivities({ store, client: createInferenceClient() }), ...createDeployActivities({ loadAdapter: loadLoraAdapter }) };
    case 'env':
      return {
        ...createPingActivities(),
        ...createEnvironmentActivities({
          store,
          sessionQueue: deps.sessionQueue,
          journal: CompletionJournal.forRunDir(deps.runDir),
          providers: providerFor,
          inference: createInferenceClient(),
          limits: deps.limits,
        }),
      };
    case 'train':
      return { ...createPingActivities(), ...createTrainActivities({ runDir: deps.runDir, runTrainer: runTrainerCommand }) };
  }
}
