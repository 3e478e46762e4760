import type { Text } from './text';

/** Token usage as reported by the inference server. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  requests: number;
}

export const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, requests: 0 };

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    requests: a.requests + b.requests,
  };
}

/** One step of a trajectory: the action taken and what the environment answered. */
export interface StepRecord {
  /** 1-based position in the branch's full trajectory (replayed prefix included). */
  t: number;
  action: Text;
  observation: Text;
  feedback: Text;
  reward: number;
  done: boolean;
  success: boolean;
  /** True for prefix steps a₁..a_{τ-1} re-executed from the parent (not new budget). */
  replayed: boolean;
  /** Inference usage of the LLM call that produced this action (absent for replayed steps). */
  usage?: TokenUsage;
}

/** A reflection: the model's answer to "where did it go wrong, what is the lesson". */
export interface ReflectionRecord {
  /** Trajectory length when the reflection was asked. */
  afterStep: number;
  /** τ chosen (1-based) when valid, else null. */
  step: number | null;
  experience: string | null;
  /** The raw completion, for audit. */
  raw: Text;
  valid: boolean;
  /** Why the reflection was rejected (unparseable JSON, τ out of range...). */
  error?: string;
  /** Why it was asked: every K steps, or after a failed step. */
  trigger: 'interval' | 'failure';
  usage?: TokenUsage;
}

export type BranchOutcome =
  | 'success' // every goal met
  | 'rollback' // a valid reflection asked to branch from τ
  | 'horizon' // trajectory reached the horizon
  | 'budget' // the episode's interaction budget ran out
  | 'done'; // the environment ended the episode without success

export interface BranchRecord {
  /** `b0` for the root, `b1`, `b2`... in creation order. */
  id: string;
  /** Temporal workflow id: `<episodeWorkflowId>/b<n>`. */
  workflowId: string;
  parent: string | null;
  depth: number;
  /** The step this branch re-does (1-based); null for the root. */
  tau: number | null;
  experience: string | null;
  steps: StepRecord[];
  reflections: ReflectionRecord[];
  outcome: BranchOutcome;
  /** Set when outcome is 'rollback': where the next branch starts and with which lesson. */
  rollback?: { tau: number; experience: string };
  newSteps: number;
  replayedSteps: number;
  /** Times the environment session was lost (worker died) and rebuilt by replay. */
  reopens: number;
  /** How the worker that opened the session isolated the actions (code: the sandbox level, e.g. bwrap). */
  isolation?: string;
  usage: TokenUsage;
}

export interface EpisodeTree {
  taskId: string;
  /** Workflow id of the episode. */
  episodeId: string;
  initialObservation: Text;
  /** The environment's instructions in the agent's system prompt (needed to rebuild h_t). */
  instructions?: Text;
  success: boolean;
  budget: { used: number; limit: number; replayed: number };
  branches: BranchRecord[];
  usage: TokenUsage;
}
