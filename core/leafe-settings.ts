/**
 * Every setting of an experiment that has a default, with that default, written once. The spec's
 * zod schema (spec/experiment-spec-schema.ts), the CLI, the workflows and core/distil.ts take
 * their defaults from here. Pure and deterministic: workflows import it at run time. It is in
 * core/, not contract/, because core/branch-decisions.ts and core/distil.ts read these settings
 * and core/ imports nothing above it.
 */

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
  /** Per-request time limit, ms: the whole request, headers and body (a dripping answer is cut off). */
  timeoutMs: number;
  /**
   * Which workers send the requests. 'env-workers' (default): inside the one activity per step
   * on the worker holding the environment (fewest round trips). 'llm-workers': separate
   * activities on the llm queue, for inference reachable (or keyed) only from dedicated workers.
   */
  requestsFrom?: InferenceRequestsFrom;
}

export const INFERENCE_REQUESTS_FROM = ['env-workers', 'llm-workers'] as const;
export type InferenceRequestsFrom = (typeof INFERENCE_REQUESTS_FROM)[number];
/** What an unset `requestsFrom` means. */
export const DEFAULT_REQUESTS_FROM: InferenceRequestsFrom = 'env-workers';

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

export type DistilMethod = 'leafe' | 'rft';

/** How exploration trees become SFT records (core/distil.ts). */
export interface DistilSettings {
  /** A counterfactual sample counts only if its branch succeeded (the paper leaves it open). */
  requireSuccess: boolean;
  /** Unset: the method's default (DEFAULT_REHEARSAL_FRACTION). */
  rehearsalFraction?: number;
  /** Weight of L_reh against L_cf. */
  beta: number;
}

export const DEFAULT_DISTIL: DistilSettings = { requireSuccess: true, beta: 1 };

/** Share of successful steps kept for D_reh when unset: RFT trains on every successful step. */
export const DEFAULT_REHEARSAL_FRACTION: Record<DistilMethod, number> = { leafe: 0.2, rft: 1 };

/** Study-wide settings: iterations of explore → distil → train, the seed, episodes run at once. */
export const DEFAULT_STUDY = { iterations: 1, seed: 1, episodeConcurrency: 8 } as const;

/** The simulator's added latency per request (ms) when the spec gives none. */
export const DEFAULT_SIM_LATENCY_MS = 0;

/** The simulated trainer's schedule. */
export const DEFAULT_SIM_TRAINER = { epochs: 2, stepsPerEpoch: 10, stepMs: 10 } as const;
