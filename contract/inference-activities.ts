import type { InferenceSettings } from '../core/leafe-settings';
import type { ParsedReflection } from '../core/parse-reflection';
import type { Text } from '../core/text';
import type { TokenUsage } from '../core/tree';

/**
 * Inference as activities of their own on the llm queue, one request each: branches started
 * before `takeStep` existed, and `inference.requestsFrom: llm-workers`, call these.
 */
export interface InferenceActivities {
  act(input: ActInput): Promise<ActResult>;
  reflect(input: ReflectInput): Promise<ReflectResult>;
}

export interface ActInput {
  inference: InferenceSettings;
  /** Trajectory blob the prompt h_t is rendered from. */
  trajectoryRef: string;
  experience: string | null;
  /** Per-request sampling seed (derived from episode seed, branch and step). */
  seed: number;
}

export interface ActResult {
  action: Text;
  usage: TokenUsage;
}

export interface ReflectInput {
  inference: InferenceSettings;
  trajectoryRef: string;
  seed: number;
}

export interface ReflectResult {
  raw: Text;
  parsed: ParsedReflection;
  usage: TokenUsage;
}
