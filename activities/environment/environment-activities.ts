import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EnvSpec } from '../../core/env-spec';
import type { Text } from '../../core/text';
import type { Environment, StepResult } from '../../envs/environment';
import { providerFor } from '../../envs/registry';
import type { ArtifactStore } from '../../infra/artifact-store';
import { saveTrajectory, type Trajectory } from './trajectory';

export interface OpenEnvironmentInput {
  /** Chosen by the workflow (deterministic), so a retried open replaces its own earlier attempt. */
  sessionId: string;
  env: EnvSpec;
  taskId: string;
  seed: number;
  /** Actions to replay after reset: the prefix a₁..a_{τ-1}, or everything so far after a lost session. */
  replay: Text[];
}

export interface StepOutcome {
  observation: Text;
  feedback: Text;
  reward: number;
  done: boolean;
  success: boolean;
  failed: boolean;
  /** Hash of the trajectory blob after this step (what the next prompt is built from). */
  trajectoryRef: string;
}

export interface OpenEnvironmentResult {
  sessionId: string;
  /** This worker's own queue: later steps of the session must be scheduled there. */
  sessionQueue: string;
  instructions: Text;
  observation: Text;
  replayed: StepOutcome[];
  trajectoryRef: string;
}

interface Session {
  env: Environment;
  trajectory: Trajectory;
}

export const SESSION_LOST = 'SessionLost';

/**
 * Environment activities. Sessions live in this worker's memory; `openEnvironment` runs on the
 * shared env queue and returns this worker's session queue, where `stepEnvironment` and
 * `closeEnvironment` are then scheduled (DESIGN.md §2, session affinity).
 */
export function createEnvironmentActivities(deps: { store: ArtifactStore; sessionQueue: string }) {
  const sessions = new Map<string, Session>();

  async function outcome(session: Session, action: string, r: StepResult): Promise<StepOutcome> {
    session.trajectory.steps.push({ action, observation: r.observation, feedback: r.feedback });
    return {
      observation: await deps.store.toText(r.observation),
      feedback: await deps.store.toText(r.feedback),
      reward: r.reward,
      done: r.done,
      success: r.success,
      failed: r.failed ?? !r.success,
      trajectoryRef: await saveTrajectory(deps.store, session.trajectory),
    };
  }

  return {
    async openEnvironment(input: OpenEnvironmentInput): Promise<OpenEnvironmentResult> {
      const previous = sessions.get(input.sessionId);
      if (previous) {
        sessions.delete(input.sessionId);
        await previous.env.close().catch(() => undefined);
      }
      const provider = providerFor(input.env);
      const env = await provider.open(input.taskId, input.seed);
      const initialObservation = await env.reset();
      const instructions = provider.instructions();
      const session: Session = { env, trajectory: { taskId: input.taskId, instructions, initialObservation, steps: [] } };
      const replayed: StepOutcome[] = [];
      for (const [i, actionText] of input.replay.entries()) {
        const action = await deps.store.resolve(actionText);
        replayed.push(await outcome(session, action, await env.step(action)));
        Context.current().heartbeat({ replayed: i + 1, of: input.replay.length });
      }
      sessions.set(input.sessionId, session);
      return {
        sessionId: input.sessionId,
        sessionQueue: deps.sessionQueue,
        instructions: await deps.store.toText(instructions),
        observation: await deps.store.toText(initialObservation),
        replayed,
        trajectoryRef: await saveTrajectory(deps.store, session.trajectory),
      };
    },

    async stepEnvironment(input: { sessionId: string; action: Text }): Promise<StepOutcome> {
      const session = sessions.get(input.sessionId);
      if (!session) {
        // This worker restarted or never had it: the workflow re-opens and replays elsewhere.
        throw ApplicationFailure.nonRetryable(`environment session ${input.sessionId} is not open on ${deps.sessionQueue}`, SESSION_LOST);
      }
      const action = await deps.store.resolve(input.action);
      let result: StepResult;
      try {
        result = await session.env.step(action);
      } catch (err) {
        // A failed step is never retried here: the workflow re-opens a fresh session and replays.
        // Close this one now, or it would leak (AgentGym servers crash on leaked sessions).
        sessions.delete(input.sessionId);
        await session.env.close().catch(() => undefined);
        throw err;
      }
      return outcome(session, action, result);
    },

    async closeEnvironment(input: { sessionId: string }): Promise<void> {
      const session = sessions.get(input.sessionId);
      sessions.delete(input.sessionId);
      await session?.env.close();
    },

    /** Open sessions on this worker (for tests and status). */
    async openSessionCount(): Promise<number> {
      return sessions.size;
    },
  };
}

export type EnvironmentActivities = ReturnType<typeof createEnvironmentActivities>;
