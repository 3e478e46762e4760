import type { EnvSpec } from '../../core/env-spec';
import type { Text } from '../../core/text';
import type { ArtifactStore } from '../../infra/artifact-store';
import type { CompletionJournal } from '../inference/completion-journal';
import { createInferenceClient, type InferenceClient } from '../inference/inference-client';
import pLimit from 'p-limit';
import { SessionRegistry } from './session-registry';
import { createTakeStepActivity } from './take-step-activity';

export interface OpenEnvironmentInput {
  /** Chosen by the workflow (deterministic), so a retried open replaces its own earlier attempt. */
  sessionId: string;
  env: EnvSpec;
  taskId: string;
  seed: number;
  /** Actions to replay after reset: the prefix a₁..a_{τ-1}, or everything so far after a lost session. */
  replay: Text[];
}

export interface StepOutcome {
  observation: Text;
  feedback: Text;
  reward: number;
  done: boolean;
  success: boolean;
  failed: boolean;
  /** Hash of the trajectory blob after this step (what the next prompt is built from). */
  trajectoryRef: string;
}

export interface OpenEnvironmentResult {
  sessionId: string;
  /** This worker's own queue: later steps of the session must be scheduled there. */
  sessionQueue: string;
  instructions: Text;
  observation: Text;
  replayed: StepOutcome[];
  trajectoryRef: string;
  /** How the worker isolates the actions it runs (code: the sandbox level); absent for envs without one. */
  isolation?: string;
}

export interface EnvironmentActivityDeps {
  store: ArtifactStore;
  /** This worker's own queue, returned by `openEnvironment`. */
  sessionQueue: string;
  journal: CompletionJournal;
  inference?: InferenceClient;
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
export function createEnvironmentActivities(deps: EnvironmentActivityDeps) {
  const limits = { envSteps: deps.limits?.envSteps ?? DEFAULT_LIMITS.envSteps, inferenceRequests: deps.limits?.inferenceRequests ?? DEFAULT_LIMITS.inferenceRequests };
  const sessions = new SessionRegistry(deps.store, pLimit(limits.envSteps));
  const takeStep = createTakeStepActivity({
    store: deps.store,
    sessionQueue: deps.sessionQueue,
    sessions,
    inference: deps.inference ?? createInferenceClient(),
    journal: deps.journal,
    llmLimiter: pLimit(limits.inferenceRequests),
  });

  return {
    takeStep,

    async openEnvironment(input: OpenEnvironmentInput): Promise<OpenEnvironmentResult> {
      return sessions.openFor(input, deps.sessionQueue);
    },

    async stepEnvironment(input: { sessionId: string; action: Text }): Promise<StepOutcome> {
      return sessions.step(input.sessionId, await deps.store.resolve(input.action));
    },

    async closeEnvironment(input: { sessionId: string }): Promise<void> {
      await sessions.close(input.sessionId);
    },

    /** Open sessions on this worker (for tests and status). */
    async openSessionCount(): Promise<number> {
      return sessions.size;
    },
  };
}

export type EnvironmentActivities = ReturnType<typeof createEnvironmentActivities>;
