/**
 * The simulated model's skill: what the simulator (sim/) answers with and what its trainer
 * changes. Here because the spec side sets it (`simulator.skill`, the sim trainer's base skill)
 * without importing the simulator.
 */
export interface SimSkill {
  /** Probability the first attempt at a task / a move is right. */
  firstTry: number;
  /** Probability a mistake is fixed once the agent has seen feedback on it. */
  fixWithFeedback: number;
  /** Probability a mistake is fixed when an experience note is in the prompt. */
  fixWithExperience: number;
  /** Probability a reflection names the right step. */
  reflectionAccuracy: number;
}

/** Skill of the simulated base model when none is given: weak at first tries, helped by feedback. */
export const DEFAULT_BASE_SKILL: SimSkill = {
  firstTry: 0.3,
  fixWithFeedback: 0.25,
  fixWithExperience: 0.55,
  reflectionAccuracy: 0.7,
};
