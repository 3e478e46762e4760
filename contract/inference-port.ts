import type { InferenceSettings } from '../core/leafe-settings';
import type { ParsedReflection } from '../core/parse-reflection';
import type { Trajectory } from '../core/trajectory';
import type { TokenUsage } from '../core/tree';

export interface Completion {
  content: string;
  usage: TokenUsage;
}

export interface ReflectionCompletion extends Completion {
  parsed: ParsedReflection;
}

/**
 * What the inference activities and `takeStep` need from a model server (injected by the
 * worker construction; the OpenAI-compatible client is inference/inference-client.ts). Errors
 * come as Temporal failures that say whether a retry can help.
 */
export interface InferenceClient {
  /** The agent's next action a_t given h_t (and the lesson, when shown at this step). */
  act(s: InferenceSettings, trajectory: Trajectory, experience: string | null, seed: number, signal?: AbortSignal): Promise<Completion>;
  /** A reflection (τ, e) on the trajectory so far, asked for as JSON. */
  reflect(s: InferenceSettings, trajectory: Trajectory, seed: number, signal?: AbortSignal): Promise<ReflectionCompletion>;
}
