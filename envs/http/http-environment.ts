/**
 * One episode on an AgentGym server, as an `Environment`. The remote session is disposable:
 * it remembers the actions taken since reset, and when the server forgets the session
 * (restart, crash) it re-creates, resets and replays them, then retries the call. This is
 * the same reset + replay the leafe workflow uses for rollbacks, done one level lower.
 */
import type { Environment, StepResult } from '../../contract/environment-port';
import type { AgentGymClient } from './agentgym-client';
import {
  AgentGymError,
  AgentGymReplayMismatchError,
  AgentGymSessionLostError,
  AgentGymTransportError,
} from './agentgym-errors';
import { fillTemplate } from '../../core/templates';
import { httpTemplates } from './http-templates';

export interface HttpEnvironmentOptions {
  /** How many times one call may rebuild the session before the error surfaces. */
  maxRestores?: number;
  /**
   * Compare replayed observations with the recorded ones; a mismatch means the server is
   * not deterministic and the rebuilt state cannot be trusted.
   */
  verifyReplay?: boolean;
}

export class HttpEnvironment implements Environment {
  private envId?: number;
  /** The session must be rebuilt before the next call. */
  private stale = false;
  /** A session that may still exist on the server after an unanswered request. */
  private orphan?: number;
  private wasReset = false;
  private actions: string[] = [];
  /** Raw server observation after each action, for replay verification. */
  private observations: string[] = [];
  private lastObservation = '';
  private finished?: { success: boolean };
  private closed = false;
  private readonly maxRestores: number;
  private readonly verifyReplay: boolean;

  constructor(
    private readonly client: AgentGymClient,
    readonly taskIndex: number,
    options: HttpEnvironmentOptions = {},
  ) {
    this.maxRestores = options.maxRestores ?? 3;
    this.verifyReplay = options.verifyReplay ?? true;
  }

  /** Actions taken since the last reset, in order. */
  get history(): readonly string[] {
    return this.actions;
  }

  async reset(): Promise<string> {
    this.assertOpen('reset');
    this.actions = [];
    this.observations = [];
    this.finished = undefined;
    // Until the reset succeeds, a rebuild must not replay the old episode.
    this.wasReset = false;
    const text = await this.withSession(async (id) => {
      const reply = await this.client.reset(id, this.taskIndex);
      const available = reply.availableActions ?? (await this.client.availableActions(id));
      return this.render(reply.observation ?? '', available);
    });
    this.wasReset = true;
    this.lastObservation = text;
    return text;
  }

  async step(action: string): Promise<StepResult> {
    this.assertOpen('step');
    if (!this.wasReset) {
      throw new Error(`http environment (${this.describe()}): step() called before reset()`);
    }
    if (this.finished) {
      // Finished AgentGym envs answer "has finished" errors (or silently continue): answer here.
      const outcome = this.finished.success ? httpTemplates.outcomeSuccess : httpTemplates.outcomeFailure;
      return {
        observation: this.lastObservation,
        feedback: fillTemplate(httpTemplates.afterDone, { outcome, action }),
        reward: 0,
        done: true,
        success: this.finished.success,
      };
    }
    const { reply, available } = await this.withSession(async (id) => {
      const reply = await this.client.step(id, action);
      const available = reply.done ? undefined : (reply.availableActions ?? (await this.client.availableActions(id)));
      return { reply, available };
    });
    this.actions.push(action);
    this.observations.push(reply.observation);
    const success = this.client.dialect.success(reply);
    if (reply.done) this.finished = { success };
    this.lastObservation = this.render(reply.observation, available);
    return { observation: this.lastObservation, feedback: reply.observation, reward: reply.reward, done: reply.done, success };
  }

  /** Idempotent and never throws: the remote session may already be gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ids = [this.envId, this.orphan].filter((id): id is number => id !== undefined);
    this.envId = undefined;
    this.orphan = undefined;
    for (const id of ids) await this.client.close(id);
  }

  private render(observation: string, available: string[] | undefined): string {
    if (!available || available.length === 0) return observation;
    return observation + fillTemplate(httpTemplates.availableActions, { actions: available.join('\n') });
  }

  /** Runs a call against the current session, rebuilding it when the server lost it. */
  private async withSession<T>(call: (envId: number) => Promise<T>): Promise<T> {
    for (let restores = 0; ; restores++) {
      try {
        if (this.envId === undefined || this.stale) await this.rebuild();
        return await call(this.envId as number);
      } catch (error) {
        if (!isRecoverable(error)) throw error;
        if (restores >= this.maxRestores) {
          const detail = error instanceof Error ? error.message : String(error);
          throw new AgentGymError(
            `http environment (${this.describe()}): gave up after ${restores} session rebuild(s) (setting maxRestores=${this.maxRestores}): ${detail}`,
            this.client.baseUrl,
            { cause: error },
          );
        }
        // After an unanswered request the server may still hold the session: close it later.
        if (error instanceof AgentGymTransportError && this.envId !== undefined && this.orphan === undefined) {
          this.orphan = this.envId;
        }
        this.stale = true;
      }
    }
  }

  /** Fresh remote session in the state this environment is in: create, reset, replay. */
  private async rebuild(): Promise<void> {
    await this.client.ensureHealthy();
    if (this.orphan !== undefined) {
      const orphan = this.orphan;
      this.orphan = undefined;
      await this.client.close(orphan);
    }
    this.envId = undefined;
    this.envId = await this.client.create();
    if (this.wasReset) {
      await this.client.reset(this.envId, this.taskIndex);
      for (const [index, action] of this.actions.entries()) {
        const reply = await this.client.step(this.envId, action);
        if (this.verifyReplay && reply.observation !== this.observations[index]) {
          throw new AgentGymReplayMismatchError(
            `http environment (${this.describe()}): replaying action ${index + 1} ${JSON.stringify(action)} after the session was lost gave observation ${JSON.stringify(reply.observation.slice(0, 200))}, expected the recorded ${JSON.stringify(this.observations[index].slice(0, 200))}; the server is not deterministic for this task`,
            this.client.baseUrl,
          );
        }
      }
    }
    this.stale = false;
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new Error(`http environment (${this.describe()}): ${what}() called after close()`);
  }

  private describe(): string {
    return `${this.client.dialect.name} task ${this.taskIndex} at ${this.client.baseUrl}`;
  }
}

function isRecoverable(error: unknown): boolean {
  return error instanceof AgentGymSessionLostError || error instanceof AgentGymTransportError;
}
