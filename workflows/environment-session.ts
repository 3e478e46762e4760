import { ActivityCancellationType, ActivityFailure, ApplicationFailure, CancellationScope, TimeoutFailure, log, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { EnvSpec } from '../core/env-spec';
import type { EpisodeTimeouts } from '../core/leafe-settings';
import type { Text } from '../core/text';
import type { EnvironmentActivities, OpenEnvironmentResult, StepOutcome, TakeStepInput, TakeStepResult } from '../contract/environment-activities';
import { INCONSISTENT_STEP, NONDETERMINISTIC_ENVIRONMENT, SESSION_LOST, SESSION_NOT_OPEN } from '../contract/failure-types';
import type { BranchSession } from './branch-loop';

/** Retries of activities that ask the model: backoff to 60 s; maximumAttempts 0 = unlimited (Temporal: leave it out). */
/** A dead worker is noticed after this long without heartbeats (older histories lack the setting). */
export const llmHeartbeatTimeout = (t: EpisodeTimeouts): number => t.llmHeartbeatMs ?? 20_000;

export const LLM_RETRY = (t: EpisodeTimeouts): RetryPolicy => ({ initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', ...(t.llmMaxAttempts > 0 ? { maximumAttempts: t.llmMaxAttempts } : {}) });

/**
 * An open environment seen from a workflow. Steps go to the worker holding the session; when
 * that worker is gone (the step cannot start in time, times out, or the worker no longer knows
 * the session) the session is re-opened on any env worker by reset + replay of every action
 * taken so far. Crash recovery is the same mechanism as backtracking (DESIGN.md §2).
 */
export class EnvironmentSession implements BranchSession {
  private current: OpenEnvironmentResult | null = null;
  /** Actions taken so far (replayed prefix included): what a re-open replays. */
  private readonly actions: Text[] = [];
  private lastTrajectoryRef = '';
  reopens = 0;

  constructor(
    private readonly id: string,
    private readonly params: {
      env: EnvSpec;
      taskId: string;
      seed: number;
      envQueue: string;
      timeouts: EpisodeTimeouts;
      /**
       * Cancellation must not leak the session (AgentGym servers run out of memory on leaked
       * sessions): an open in flight is waited for, so its session is known and closed, and
       * `close` runs even in a cancelled scope. Off for branches recorded before it.
       */
      closeOnCancel?: boolean;
    },
  ) {}

  /** How an activity that opens a session is cancelled: waited for when the session must be closed. */
  private get openCancellation(): ActivityCancellationType {
    return this.params.closeOnCancel ? ActivityCancellationType.WAIT_CANCELLATION_COMPLETED : ActivityCancellationType.TRY_CANCEL;
  }

  /** Opens the environment and replays `prefix`; returns the open result with the replayed steps. */
  async open(prefix: Text[]): Promise<OpenEnvironmentResult> {
    const result = await this.openOnAnyWorker(prefix);
    this.actions.push(...prefix);
    this.lastTrajectoryRef = result.trajectoryRef;
    return result;
  }

  /** A step as its own activity (branches started before `takeStep` existed replay this path). */
  async step(action: Text): Promise<StepOutcome> {
    return this.withReopen(async (session) => {
      const outcome = await this.onSessionWorker(session.sessionQueue).stepEnvironment({ sessionId: session.sessionId, action });
      this.actions.push(action);
      this.lastTrajectoryRef = outcome.trajectoryRef;
      return outcome;
    }, isSessionLost);
  }

  /**
   * Act, step and (when due) reflect in one activity on the worker holding the session. Its
   * retries (a 500 from the model) go to the same worker, where the session still is; a lost
   * worker shows as a schedule-to-start timeout and leads to re-open + replay.
   */
  async takeStep(input: Omit<TakeStepInput, 'sessionId' | 'trajectoryRef'>): Promise<TakeStepResult> {
    return this.withReopen(async (session) => {
      const result = await this.takeStepActivity(session.sessionQueue)({ ...input, sessionId: session.sessionId, trajectoryRef: this.lastTrajectoryRef });
      this.actions.push(result.action);
      this.lastTrajectoryRef = result.outcome.trajectoryRef;
      if (result.closed) this.current = null;
      return result;
    }, isSessionGone);
  }

  /**
   * A branch's first step: open the session (reset + replay `prefix`) and take the step in one
   * activity on any env worker. Retries may land on another worker, which opens afresh (the
   * failed attempt closes what it opened); completions are reused from the journal.
   */
  async openAndTakeStep(prefix: Text[], input: Omit<TakeStepInput, 'sessionId' | 'trajectoryRef' | 'open'>): Promise<TakeStepResult & { opened: OpenEnvironmentResult }> {
    const t = this.params.timeouts;
    const { takeStep } = proxyActivities<EnvironmentActivities>({
      taskQueue: this.params.envQueue,
      // The replay of a long prefix, two model requests and a step.
      startToCloseTimeout: 3_600_000 + 2 * t.llmStartToCloseMs + t.stepStartToCloseMs,
      heartbeatTimeout: llmHeartbeatTimeout(t),
      retry: LLM_RETRY(t),
      cancellationType: this.openCancellation,
    });
    const sessionId = `${this.id}#${this.reopens}`;
    const result = await takeStep({
      ...input,
      sessionId,
      trajectoryRef: null,
      open: { env: this.params.env, taskId: this.params.taskId, seed: this.params.seed, replay: prefix },
    });
    const opened = result.opened;
    if (!opened) throw ApplicationFailure.nonRetryable(`takeStep with open for ${this.id} returned no opened session`, INCONSISTENT_STEP);
    this.current = result.closed ? null : opened;
    this.actions.push(...prefix, result.action);
    this.lastTrajectoryRef = result.outcome.trajectoryRef;
    return { ...result, opened };
  }

  private async withReopen<T>(attempt: (session: OpenEnvironmentResult) => Promise<T>, lost: (err: unknown) => boolean): Promise<T> {
    for (;;) {
      const session = this.current;
      if (!session) throw ApplicationFailure.nonRetryable(`environment session ${this.id} is not open`, SESSION_NOT_OPEN);
      try {
        return await attempt(session);
      } catch (err) {
        if (!lost(err) || this.reopens >= this.params.timeouts.maxReopens) throw err;
        this.reopens++;
        const reopened = await this.openOnAnyWorker(this.actions);
        if (reopened.trajectoryRef !== this.lastTrajectoryRef) {
          throw ApplicationFailure.nonRetryable(
            `environment ${this.params.env.kind} task ${this.params.taskId} is not deterministic: replaying ${this.actions.length} actions gave a different trajectory (${reopened.trajectoryRef} != ${this.lastTrajectoryRef})`,
            NONDETERMINISTIC_ENVIRONMENT,
          );
        }
      }
    }
  }

  /**
   * Closes the session, also when the branch is cancelled (then in a non-cancellable scope: in
   * the cancelled one the activity would never be scheduled). Best effort: a gone worker has
   * nothing left to close, and a failed close does not undo the branch; it is logged.
   */
  async close(): Promise<void> {
    const session = this.current;
    this.current = null;
    if (!session) return;
    const closeOnWorker = () => this.onSessionWorker(session.sessionQueue).closeEnvironment({ sessionId: session.sessionId });
    try {
      await (this.params.closeOnCancel ? CancellationScope.nonCancellable(closeOnWorker) : closeOnWorker());
    } catch (err) {
      if (this.params.closeOnCancel) log.warn('closing environment session failed', { sessionId: session.sessionId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async openOnAnyWorker(replay: Text[]): Promise<OpenEnvironmentResult> {
    const { openEnvironment } = proxyActivities<EnvironmentActivities>({
      taskQueue: this.params.envQueue,
      startToCloseTimeout: '1 hour',
      heartbeatTimeout: this.params.timeouts.stepStartToCloseMs,
      retry: { maximumAttempts: 10, maximumInterval: '30s' },
      cancellationType: this.openCancellation,
    });
    const sessionId = `${this.id}#${this.reopens}`;
    this.current = await openEnvironment({ sessionId, env: this.params.env, taskId: this.params.taskId, seed: this.params.seed, replay });
    return this.current;
  }

  private takeStepActivity(queue: string) {
    const t = this.params.timeouts;
    const { takeStep } = proxyActivities<EnvironmentActivities>({
      taskQueue: queue,
      scheduleToStartTimeout: t.sessionScheduleToStartMs,
      // Two model requests (act, reflect) and one env step; a retry repeats the attempt (journalled completions are reused).
      startToCloseTimeout: 2 * t.llmStartToCloseMs + t.stepStartToCloseMs,
      heartbeatTimeout: llmHeartbeatTimeout(t),
      retry: LLM_RETRY(t),
    });
    return takeStep;
  }

  private onSessionWorker(queue: string) {
    return proxyActivities<EnvironmentActivities>({
      taskQueue: queue,
      scheduleToStartTimeout: this.params.timeouts.sessionScheduleToStartMs,
      startToCloseTimeout: this.params.timeouts.stepStartToCloseMs,
      // A retry would go to the same (possibly dead) worker: recovery is re-open + replay instead.
      retry: { maximumAttempts: 1 },
    });
  }
}

/**
 * takeStep retries on its own (same worker), so only these mean the session is gone: the
 * worker said so (SessionLost: restarted, or its env step failed), or nobody picked the
 * retry up (schedule-to-start timeout: the worker is dead).
 */
function isSessionGone(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return true;
  return cause instanceof ApplicationFailure && cause.type === SESSION_LOST;
}

/** The per-call path: stepEnvironment is not retried, so any retryable failure means re-open too. */
function isSessionLost(err: unknown): boolean {
  return isSessionGone(err) || (err instanceof ActivityFailure && !(err.cause instanceof ApplicationFailure && err.cause.nonRetryable));
}
