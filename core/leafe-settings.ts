/** Exploration settings of an episode (DESIGN.md §1). Pure: shared by workflows and the CLI. */
export interface LeafeSettings {
  /** Maximum trajectory length in environment steps (replayed prefix included). Paper's CodeContests: 4. */
  horizon: number;
  /** Reflect every K new steps (0: never on an interval). */
  reflectEvery: number;
  /** Reflect after a step the environment reports as failed. */
  reflectOnFailure: boolean;
  /** Deepest branch (root = 0). */
  maxDepth: number;
  /** Most branches in one episode, root included. */
  maxBranches: number;
  /** Interaction budget: new environment steps over the whole episode (replayed steps are not counted). */
  budget: number;
  /** Stop expanding once a branch succeeds (otherwise exhaust the budget). */
  stopAtFirstSuccess: boolean;
  /** Keep the experience note in the prompt at every step after τ (false: only at τ). */
  keepExperience: boolean;
}

export const DEFAULT_LEAFE_SETTINGS: LeafeSettings = {
  horizon: 4,
  reflectEvery: 0,
  reflectOnFailure: true,
  maxDepth: 3,
  maxBranches: 8,
  budget: 12,
  stopAtFirstSuccess: true,
  keepExperience: true,
};

/** Settings for Pass@k sampling: no reflection, no rollback, one trajectory. */
export function samplingSettings(horizon: number): LeafeSettings {
  return { ...DEFAULT_LEAFE_SETTINGS, horizon, reflectEvery: 0, reflectOnFailure: false, maxDepth: 0, maxBranches: 1, budget: horizon };
}

/** The inference endpoint: any OpenAI-compatible server. */
export interface InferenceSettings {
  baseUrl: string;
  model: string;
  /** Name of the environment variable holding the API key on the workers that send requests (see `requestsFrom`; keys never go into histories). */
  apiKeyEnv?: string;
  temperature: number;
  topP?: number;
  maxTokens: number;
  /** Per-request HTTP timeout, ms. */
  timeoutMs: number;
  /**
   * Which workers send the requests. 'env-workers' (default): inside the one activity per step
   * on the worker holding the environment (fewest round trips). 'llm-workers': separate
   * activities on the llm queue, for inference reachable (or keyed) only from dedicated workers.
   */
  requestsFrom?: InferenceRequestsFrom;
}

export type InferenceRequestsFrom = 'env-workers' | 'llm-workers';

export const DEFAULT_SAMPLING = { temperature: 0.7, maxTokens: 1024, timeoutMs: 120_000 } as const;

/** Timeouts and retry bounds of the activities an episode schedules. */
export interface EpisodeTimeouts {
  /** How long a step may wait for the worker holding the session before it counts as gone. */
  sessionScheduleToStartMs: number;
  stepStartToCloseMs: number;
  llmStartToCloseMs: number;
  /** A dead llm worker is noticed after this long without a heartbeat (optional: older histories lack it). */
  llmHeartbeatMs?: number;
  /** 0: retry inference without limit (Temporal's default), with backoff capped at 60 s. */
  llmMaxAttempts: number;
  /** Re-open + replay at most this many times per branch before failing it. */
  maxReopens: number;
}

export const DEFAULT_TIMEOUTS: EpisodeTimeouts = {
  sessionScheduleToStartMs: 10_000,
  stepStartToCloseMs: 120_000,
  llmStartToCloseMs: 300_000,
  llmHeartbeatMs: 20_000,
  llmMaxAttempts: 0,
  maxReopens: 5,
};
