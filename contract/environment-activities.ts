import type { StepAsk } from '../core/branch-decisions';
import type { EnvSpec } from '../core/env-spec';
import type { InferenceSettings } from '../core/leafe-settings';
import type { Text } from '../core/text';
import type { TokenUsage } from '../core/tree';
import type { ReflectResult } from './inference-activities';

/**
 * The environment activities (env queue, then the session worker's own queue), as workflows
 * see them. Sessions live in one worker's memory: `openEnvironment` runs on the shared env
 * queue and returns that worker's session queue, where `takeStep` (or, in branches started
 * before it existed, `stepEnvironment`) and `closeEnvironment` are then scheduled.
 */
export interface EnvironmentActivities {
  takeStep(input: TakeStepInput): Promise<TakeStepResult>;
  openEnvironment(input: OpenEnvironmentInput): Promise<OpenEnvironmentResult>;
  stepEnvironment(input: StepEnvironmentInput): Promise<StepOutcome>;
  closeEnvironment(input: CloseEnvironmentInput): Promise<void>;
  /** Open sessions on this worker (for tests and status). */
  openSessionCount(): Promise<number>;
}

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

export interface StepEnvironmentInput {
  sessionId: string;
  action: Text;
}

export interface CloseEnvironmentInput {
  sessionId: string;
}

export interface TakeStepInput extends StepAsk {
  sessionId: string;
  /**
   * A branch's first step also opens its session (reset + replay of the prefix) on whichever env
   * worker takes the activity from the shared queue: one activity and one workflow task less per
   * branch. Later steps go to the queue of the worker holding the session and leave this out.
   */
  open?: Omit<OpenEnvironmentInput, 'sessionId'>;
  inference: InferenceSettings;
  /** Trajectory hash before the step: the act prompt h_t is rendered from it (null with `open`: the opened one). */
  trajectoryRef: string | null;
}

export interface TakeStepResult {
  action: Text;
  actUsage: TokenUsage;
  outcome: StepOutcome;
  /** Asked when `planReflection` said so for this step's outcome; null otherwise. */
  reflection: ReflectResult | null;
  /** The branch ends with this step, so the session was closed here. */
  closed: boolean;
  /** Completions taken from the journal instead of asked again (a retried attempt). */
  reusedCompletions: number;
  /** With `open`: the opened session (its queue, the initial observation, the replayed steps). */
  opened?: OpenEnvironmentResult;
}
