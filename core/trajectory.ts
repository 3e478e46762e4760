import type { AgentContext, TrajectoryStep } from './prompts';

/**
 * The text trajectory of an open session (task, instructions, steps so far), stored as one
 * content-addressed blob after every step. Workflows pass only its hash to inference, so
 * history grows by a constant per step instead of by the whole prompt; and a session rebuilt
 * by replay on another worker yields the same hash, which proves the replay was faithful.
 */
export interface Trajectory {
  taskId: string;
  instructions: string;
  initialObservation: string;
  steps: TrajectoryStep[];
}

export function toAgentContext(t: Trajectory, experience: string | null): AgentContext {
  return { taskId: t.taskId, instructions: t.instructions, initialObservation: t.initialObservation, steps: t.steps, experience };
}
