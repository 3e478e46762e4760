import type { CloseEnvironmentInput, EnvironmentActivities, OpenEnvironmentInput, OpenEnvironmentResult, StepEnvironmentInput, StepOutcome } from '../../contract/environment-activities';
import type { EnvironmentProviders } from '../../contract/environment-port';
import type { InferenceClient } from '../../contract/inference-port';
import type { ArtifactStore } from '../../infra/artifact-store';
import type { CompletionJournal } from '../inference/completion-journal';
import pLimit from 'p-limit';
import { SessionRegistry } from './session-registry';
import { createTakeStepActivity } from './take-step-activity';

export interface EnvironmentActivityDeps {
  store: ArtifactStore;
  /** This worker's own queue, returned by `openEnvironment`. */
  sessionQueue: string;
  journal: CompletionJournal;
  /** The environments (envs/registry.ts) and the model server (inference/inference-client.ts) this worker uses. */
  providers: EnvironmentProviders;
  inference: InferenceClient;
  /** Per process: concurrent env steps (CPU) and concurrent inference requests (`takeStep`). */
  limits?: Partial<{ envSteps: number; inferenceRequests: number }>;
}

const DEFAULT_LIMITS = { envSteps: 8, inferenceRequests: 64 };

/**
 * Environment activities. Sessions live in this worker's memory; `openEnvironment` runs on the
 * shared env queue and returns this worker's session queue, where `takeStep` (or, in branches
 * started before it existed, `stepEnvironment`) and `closeEnvironment` are then scheduled
 * (DESIGN.md §2, session affinity).
 */
export function createEnvironmentActivities(deps: EnvironmentActivityDeps): EnvironmentActivities {
  const limits = { envSteps: deps.limits?.envSteps ?? DEFAULT_LIMITS.envSteps, inferenceRequests: deps.limits?.inferenceRequests ?? DEFAULT_LIMITS.inferenceRequests };
  const sessions = new SessionRegistry(deps.store, deps.providers, pLimit(limits.envSteps));
  const takeStep = createTakeStepActivity({
    store: deps.store,
    sessionQueue: deps.sessionQueue,
    sessions,
    inference: deps.inference,
    journal: deps.journal,
    llmLimiter: pLimit(limits.inferenceRequests),
  });

  return {
    takeStep,

    async openEnvironment(input: OpenEnvironmentInput): Promise<OpenEnvironmentResult> {
      return sessions.openFor(input, deps.sessionQueue);
    },

    async stepEnvironment(input: StepEnvironmentInput): Promise<StepOutcome> {
      return sessions.step(input.sessionId, await deps.store.resolve(input.action));
    },

    async closeEnvironment(input: CloseEnvironmentInput): Promise<void> {
      await sessions.close(input.sessionId);
    },

    /** Open sessions on this worker (for tests and status). */
    async openSessionCount(): Promise<number> {
      return sessions.size;
    },
  };
}
