import type { EnvSpec } from '../core/env-spec';

/**
 * The one interface every environment implements (DESIGN.md §3). Environments must be
 * deterministic given (task, seed, action prefix): crash recovery and backtracking both
 * rebuild state by reset + replay.
 */
export interface StepResult {
  /** What the agent sees next (may repeat the state, e.g. a Sokoban grid). */
  observation: string;
  /** Diagnostic feedback on the action just taken (test failures, "pushed a box into a corner"...). */
  feedback: string;
  reward: number;
  done: boolean;
  success: boolean;
  /**
   * The action was a mistake the environment can diagnose (failed tests, a deadlock, a blocked
   * or invalid move): it triggers reflect-on-failure. Absent means `!success`.
   */
  failed?: boolean;
}

export interface Environment {
  /** Reset to the task's initial state; returns the first observation (the task statement). */
  reset(): Promise<string>;
  step(action: string): Promise<StepResult>;
  close(): Promise<void>;
}

export interface EnvironmentProvider {
  readonly kind: string;
  /** Task ids in a stable order; `limit` takes the first ones. */
  listTasks(limit?: number): Promise<string[]>;
  /** Opens a fresh environment for a task (not yet reset). */
  open(taskId: string, seed: number): Promise<Environment>;
  /** Instructions for the agent's system prompt: what an action looks like. */
  instructions(): string;
  /** How this worker isolates the actions it runs (code: the sandbox level), recorded in the tree. */
  isolation?(): Promise<string>;
}

/** How the environment activities find the provider of a spec (injected: envs/registry.ts). */
export type EnvironmentProviders = (spec: EnvSpec) => EnvironmentProvider;
