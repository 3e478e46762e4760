import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EnvSpec } from '../../core/env-spec';
import type { OpenEnvironmentInput, OpenEnvironmentResult, StepOutcome } from '../../contract/environment-activities';
import type { Environment, EnvironmentProviders, StepResult } from '../../contract/environment-port';
import type { Trajectory } from '../../core/trajectory';
import type { ArtifactStore } from '../../infra/artifact-store';
import type { LimitFunction } from 'p-limit';
import { saveTrajectory } from './trajectory';
import { SANDBOX_REFUSED, SESSION_LOST } from '../../contract/failure-types';

function notAtStep(sessionId: string, taken: number, t: number): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`environment session ${sessionId} has taken ${taken} steps; step ${t} cannot be taken in it`, SESSION_LOST);
}

interface Session {
  env: Environment;
  trajectory: Trajectory;
  /** Hash of `trajectory` as stored now. */
  trajectoryRef: string;
  /** The last step taken, so a retried attempt of it gets the same outcome instead of a second step. */
  last?: { t: number; action: string; outcome: StepOutcome };
  /** Steps of one session run one at a time (a retried attempt may overlap a slow first one). */
  lock: Promise<unknown>;
}

/**
 * The environment sessions open in this worker process (DESIGN.md §2, session affinity). Env
 * steps go through `stepLimiter`, which bounds the CPU they use whatever the activity slots.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly providers: EnvironmentProviders,
    private readonly stepLimiter: LimitFunction,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Resets a new environment and replays `replay`; replaces a session of the same id (a retried open). */
  async open(sessionId: string, spec: EnvSpec, taskId: string, seed: number, replay: string[]): Promise<{ instructions: string; observation: string; replayed: StepOutcome[]; trajectoryRef: string; isolation?: string }> {
    await this.close(sessionId).catch(() => undefined);
    const provider = this.providers(spec);
    const env = await provider.open(taskId, seed).catch((err: unknown) => {
      // A worker whose sandbox may not run untrusted code: say so at once, no retries.
      if (err instanceof Error && err.name === SANDBOX_REFUSED) throw ApplicationFailure.nonRetryable(err.message, SANDBOX_REFUSED);
      throw err;
    });
    const observation = await env.reset();
    const instructions = provider.instructions();
    const session: Session = { env, trajectory: { taskId, instructions, initialObservation: observation, steps: [] }, trajectoryRef: '', lock: Promise.resolve() };
    const replayed: StepOutcome[] = [];
    for (const [i, action] of replay.entries()) {
      replayed.push(await this.record(session, action, await this.stepLimiter(() => env.step(action))));
      Context.current().heartbeat({ replayed: i + 1, of: replay.length });
    }
    // Each replayed step stored the trajectory already; a fresh one is stored here.
    if (replay.length === 0) session.trajectoryRef = await saveTrajectory(this.store, session.trajectory);
    this.sessions.set(sessionId, session);
    const isolation = await provider.isolation?.();
    return { instructions, observation, replayed, trajectoryRef: session.trajectoryRef, ...(isolation ? { isolation } : {}) };
  }

  /** Fails fast (SessionLost) unless the session is here and can take step t (or has just taken it). */
  expectStep(sessionId: string, t: number): void {
    const taken = this.require(sessionId).trajectory.steps.length;
    if (taken !== t - 1 && taken !== t) throw notAtStep(sessionId, taken, t);
  }

  /** `open` for an activity: texts resolved from and stored to the artifact store, and the queue of this worker. */
  async openFor(input: OpenEnvironmentInput, sessionQueue: string): Promise<OpenEnvironmentResult> {
    const replay = await Promise.all(input.replay.map((a) => this.store.resolve(a)));
    const opened = await this.open(input.sessionId, input.env, input.taskId, input.seed, replay);
    return {
      sessionId: input.sessionId,
      sessionQueue,
      instructions: await this.store.toText(opened.instructions),
      observation: await this.store.toText(opened.observation),
      replayed: opened.replayed,
      trajectoryRef: opened.trajectoryRef,
      ...(opened.isolation ? { isolation: opened.isolation } : {}),
    };
  }

  /**
   * Takes `action` in the session. With `t` (the 1-based step index) the step is idempotent: if
   * step t was already taken with this action (an earlier attempt of the same activity), its
   * outcome is returned again; a session at any other point counts as lost.
   */
  async step(sessionId: string, action: string, t?: number): Promise<StepOutcome> {
    const session = this.require(sessionId);
    const run = session.lock.then(async () => {
      const taken = session.trajectory.steps.length;
      if (t !== undefined && taken === t && session.last?.t === t && session.last.action === action) return session.last.outcome;
      if (t !== undefined && taken !== t - 1) throw notAtStep(sessionId, taken, t);
      let result: StepResult;
      try {
        result = await this.stepLimiter(() => session.env.step(action));
      } catch (err) {
        // A failed step is never retried in this session: the workflow re-opens a fresh one and
        // replays. Close this one now, or it would leak (AgentGym servers crash on leaked sessions).
        // (Not `close`: it waits for the step in flight, which is this one.)
        this.sessions.delete(sessionId);
        await session.env.close().catch(() => undefined);
        throw ApplicationFailure.create({ message: `environment step failed in session ${sessionId}: ${err instanceof Error ? err.message : String(err)}`, type: SESSION_LOST, nonRetryable: true, cause: err instanceof Error ? err : undefined });
      }
      const outcome = await this.record(session, action, result);
      session.last = { t: t ?? session.trajectory.steps.length, action, outcome };
      return outcome;
    });
    session.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Forgets the session (later steps fail fast with SessionLost) and closes it after a step in
   * flight (a cancelled branch's close can overlap its last step): an env closed under a running
   * step may rebuild its remote session and leak it.
   */
  async close(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    await session.lock;
    await session.env.close();
  }

  private require(sessionId: string): Session {
    const session = this.sessions.get(sessionId);
    // This worker restarted or never had it: the workflow re-opens and replays elsewhere.
    if (!session) throw ApplicationFailure.nonRetryable(`environment session ${sessionId} is not open on this worker`, SESSION_LOST);
    return session;
  }

  private async record(session: Session, action: string, r: StepResult): Promise<StepOutcome> {
    session.trajectory.steps.push({ action, observation: r.observation, feedback: r.feedback });
    session.trajectoryRef = await saveTrajectory(this.store, session.trajectory);
    return {
      observation: await this.store.toText(r.observation),
      feedback: await this.store.toText(r.feedback),
      reward: r.reward,
      done: r.done,
      success: r.success,
      failed: r.failed ?? !r.success,
      trajectoryRef: session.trajectoryRef,
    };
  }
}
