import type { SimSkill } from '../contract/sim-skill';
import type { ChatMessage } from '../core/prompts';

/** A chat-completions request as the simulator sees it. */
export interface SimRequest {
  model: string;
  messages: ChatMessage[];
  /** Per-request seed (leafe always sends one: sample index, branch, step). */
  seed: number;
  temperature: number;
  /** True when the client asked for the reflection JSON (response_format json_schema). */
  wantsReflection: boolean;
}

/**
 * A scripted policy for one environment kind. `rand` is a deterministic uniform [0,1) stream
 * derived from (simulator seed, request content, request seed): the same request always gets
 * the same answer, which is what makes crash-equivalence testable.
 */
export interface SimPolicy {
  /** True when this policy recognises the task in the prompt. */
  handles(request: SimRequest): boolean;
  act(request: SimRequest, skill: SimSkill, rand: () => number): string;
  reflect(request: SimRequest, skill: SimSkill, rand: () => number): { step: number; experience: string };
}
