import type { EnvSpec } from '../core/env-spec';
import type { DistilSettings, EpisodeTimeouts, InferenceSettings, LeafeSettings } from '../core/leafe-settings';
import type { TaskQueues } from './task-queues';

/**
 * A validated, fully resolved experiment (what the CLI hands to `experimentWorkflow`): task ids
 * are explicit, the simulator URL is filled in. Pure types, shared by workflows and activities.
 */
export type Method = 'leafe' | 'rft' | 'base';

/** A trainer command; the simulated trainer is one too (spec/sim-trainer.ts builds it). */
export interface TrainerConfig {
  kind: 'command';
  /** argv template with {{placeholders}} (see docs/trainers.md). */
  command: string[];
  baseModel: string;
  hyperparameters: Record<string, string | number>;
  env?: Record<string, string>;
  cwd?: string;
}

export type DeployConfig =
  /** Hot-load the adapter into a running vLLM server (VLLM_ALLOW_RUNTIME_LORA_UPDATING=True). */
  | { kind: 'vllm-lora'; baseUrl: string; apiKeyEnv?: string }
  /** The simulator's vLLM-compatible endpoints (same client code). */
  | { kind: 'sim'; baseUrl: string };

export interface EvaluationSettings {
  /** Independent samples per eval task. */
  samples: number;
  ks: number[];
  /** Interaction budget per sample = horizon (no reflection, no rollback). */
  horizon: number;
}

export interface ExperimentConfig {
  name: string;
  env: EnvSpec;
  trainTasks: string[];
  evalTasks: string[];
  inference: InferenceSettings;
  leafe: LeafeSettings;
  distil: DistilSettings;
  trainer: TrainerConfig;
  deploy: DeployConfig;
  evaluation: EvaluationSettings;
  iterations: number;
  seed: number;
  concurrency: { episodes: number };
  runDir: string;
  timeouts?: Partial<EpisodeTimeouts>;
}

/** Pass@k of one evaluation: per-task counts are stored so the numbers can be recomputed. */
export interface EvaluationResult {
  iteration: number;
  model: string;
  passAtK: Record<string, number>;
  counts: Array<{ taskId: string; n: number; c: number }>;
}

export interface IterationRecord {
  iteration: number;
  /** Model served during this iteration's exploration and evaluation. */
  model: string;
  evaluation: EvaluationResult;
  explore?: { episodes: number; solved: number; budgetUsed: number; replayed: number; branches: number; treesRef: string };
  dataset?: { dir: string; sha256: string; cf: number; reh: number; records: number };
  train?: { adapterPath: string; resumedFrom: string | null };
  deploy?: { model: string };
  usage: { promptTokens: number; completionTokens: number; requests: number };
}

export interface ExperimentState {
  /** Next iteration to run. */
  iteration: number;
  model: string;
  /** Path of the adapter behind `model` (null for the base model): the next training starts from it. */
  adapter: string | null;
  history: IterationRecord[];
  /** Live control (pause, concurrency) as the previous run left it: signals outlive continue-as-new. */
  control?: { paused: boolean; concurrency: number };
}

export interface ExperimentInput {
  experimentId: string;
  method: Method;
  config: ExperimentConfig;
  queues: TaskQueues;
  state?: ExperimentState;
}

export interface ExperimentSummary {
  experimentId: string;
  method: Method;
  env: string;
  iterations: IterationRecord[];
  summaryPath: string;
}
