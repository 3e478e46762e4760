import type { InferenceSettings } from '../core/leafe-settings';

/**
 * How a branch takes a step:
 * - 'take-step': ONE activity per step on the worker holding the session (act, env step and,
 *   when due, reflect), the first one also opening the session: fewest history events and
 *   round trips, inference sent from the env workers;
 * - 'activity-per-call': act and reflect as activities on the llm queue, the env step as its own
 *   activity: inference stays on dedicated llm workers (reachable or keyed only from there).
 *   Branches recorded before `takeStep` existed replay this path too.
 */
export type StepStrategy = 'take-step' | 'activity-per-call';

/** The strategy the inference setting asks for (`requestsFrom`, default the env workers). */
export function stepStrategyFor(inference: InferenceSettings): StepStrategy {
  return inference.requestsFrom === 'llm-workers' ? 'activity-per-call' : 'take-step';
}
