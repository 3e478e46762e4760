import type { EnvSpec } from '../core/env-spec';
import type { EpisodeTimeouts, InferenceSettings } from '../core/leafe-settings';
import type { TaskQueues } from './task-queues';

/** evaluateWorkflow's input: Pass@k over `taskIds` with `samples` episodes each. */
export interface EvaluateInput {
  iteration: number;
  taskIds: string[];
  samples: number;
  ks: number[];
  horizon: number;
  env: EnvSpec;
  inference: InferenceSettings;
  seed: number;
  queues: TaskQueues;
  concurrency: number;
  timeouts?: Partial<EpisodeTimeouts>;
}
