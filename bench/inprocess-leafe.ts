/**
 * LEAFE exploration without Temporal: the SAME episode and branch loops as the workflows
 * (workflows/episode-loop.ts, workflows/branch-loop.ts), run through direct calls of the SAME
 * activity functions (createEnvironmentActivities, createInferenceActivities). No history, no
 * task queues, no retries, no crash recovery: this is the no-durability baseline.
 *
 * The activities read Context.current() (heartbeats, cancellation signal), so each call runs
 * inside `new MockActivityEnvironment().run(fn, input)` from @temporalio/testing: that only
 * provides the activity context; the activity code itself is the real one.
 *
 * Two schedules over the same loops:
 * - `runEpisodeAsync` (here): each episode runs on its own, as a Temporal episodeWorkflow does,
 *   with the step strategy its inference setting asks for (one `takeStep` call per step);
 * - `runLockstep` (bench/lockstep.ts): a batch of episodes advances in rounds with a barrier
 *   after each phase.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { EnvironmentActivities, OpenEnvironmentResult, StepOutcome, TakeStepInput, TakeStepResult } from '../contract/environment-activities';
import { createEnvironmentActivities } from '../activities/environment/environment-activities';
import type { ActInput, InferenceActivities, ReflectInput } from '../contract/inference-activities';
import { createInferenceActivities } from '../activities/inference/inference-activities';
import { CompletionJournal } from '../activities/inference/completion-journal';
import type { Text } from '../core/text';
import type { EpisodeTree } from '../core/tree';
import { ArtifactStore } from '../infra/artifact-store';
import { exploreBranch, type BranchPort, type BranchSession, type StepRequest } from '../workflows/branch-loop';
import { exploreEpisode } from '../workflows/episode-loop';
import type { BranchInput, EpisodeInput } from '../contract/episode-types';
import { stepStrategyFor } from '../workflows/step-strategy';
import { providerFor } from '../envs/registry';
import { createInferenceClient } from '../inference/inference-client';

export interface InProcessActivities {
  env: EnvironmentActivities;
  llm: InferenceActivities;
}

export function createInProcessActivities(runDir: string): InProcessActivities {
  const store = ArtifactStore.forRunDir(runDir);
  return {
    env: createEnvironmentActivities({ store, sessionQueue: 'in-process', journal: CompletionJournal.forRunDir(runDir), providers: providerFor, inference: createInferenceClient() }),
    llm: createInferenceActivities({ store, client: createInferenceClient() }),
  };
}

/**
 * Runs one activity function in an activity context (no worker, no server, no history). The
 * workflow id is the branch's, as on Temporal (`takeStep` keys its completion journal by it).
 */
function call<I, O>(fn: (input: I) => Promise<O>, input: I, workflowId: string): Promise<O> {
  const info = { workflowExecution: { workflowId, runId: '00000000-0000-0000-0000-000000000000' } };
  return new MockActivityEnvironment(info).run(fn as (input: I) => Promise<O>, input);
}

/**
 * One timed environment step: from asking for the action to the moment the next decision can
 * be made (Temporal: takeStep scheduled → the workflow task after its completion; in-process:
 * the `takeStep` call). With one activity per step the cycle also holds the step's reflection,
 * when one was asked: `reflect` is its request, so its simulated latency can be subtracted too.
 */
export interface StepTiming {
  episodeId: string;
  branchId: string;
  t: number;
  cycleMs: number;
  act: ActInput;
  reflect: ReflectInput | null;
}

/** A branch's environment session as direct calls on one process (environment-session.ts minus Temporal: never re-opened). */
class DirectSession implements BranchSession {
  readonly reopens = 0;
  private trajectoryRef = '';
  /** `takeStep` closed the session (the branch ended with its step): nothing left to close. */
  private closed = false;

  constructor(
    private readonly acts: InProcessActivities,
    private readonly workflowId: string,
    private readonly branch: BranchInput,
    private readonly timings: StepTiming[] | null,
  ) {}

  private get sessionId(): string {
    return `${this.workflowId}#0`;
  }

  private get openInput() {
    return { env: this.branch.env, taskId: this.branch.taskId, seed: this.branch.seed };
  }

  async open(prefix: Text[]): Promise<OpenEnvironmentResult> {
    const opened = await call(this.acts.env.openEnvironment, { sessionId: this.sessionId, ...this.openInput, replay: prefix }, this.workflowId);
    this.trajectoryRef = opened.trajectoryRef;
    return opened;
  }

  async openAndTakeStep(prefix: Text[], step: StepRequest): Promise<TakeStepResult & { opened: OpenEnvironmentResult }> {
    const taken = await this.timedTakeStep({ ...step, sessionId: this.sessionId, open: { ...this.openInput, replay: prefix }, trajectoryRef: null });
    if (!taken.opened) throw new Error(`takeStep with open for ${this.workflowId} returned no opened session`);
    return { ...taken, opened: taken.opened };
  }

  takeStep(step: StepRequest): Promise<TakeStepResult> {
    return this.timedTakeStep({ ...step, sessionId: this.sessionId, trajectoryRef: this.trajectoryRef });
  }

  async step(action: Text): Promise<StepOutcome> {
    const outcome = await call(this.acts.env.stepEnvironment, { sessionId: this.sessionId, action }, this.workflowId);
    this.trajectoryRef = outcome.trajectoryRef;
    return outcome;
  }

  /** Closes the session unless `takeStep` already did (closing a missing session is harmless anyway). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await call(this.acts.env.closeEnvironment, { sessionId: this.sessionId }, this.workflowId).catch(() => undefined);
  }

  private async timedTakeStep(input: TakeStepInput): Promise<TakeStepResult> {
    const startedAt = performance.now();
    const taken = await call(this.acts.env.takeStep, input, this.workflowId);
    const cycleMs = performance.now() - startedAt;
    if (taken.closed) this.closed = true;
    this.trajectoryRef = taken.outcome.trajectoryRef;
    this.timings?.push({
      episodeId: this.branch.episodeId,
      branchId: this.branch.branchId,
      t: input.t,
      cycleMs,
      act: { inference: input.inference, trajectoryRef: input.trajectoryRef ?? taken.opened!.trajectoryRef, experience: input.experience, seed: input.actSeed },
      reflect: taken.reflection ? { inference: input.inference, trajectoryRef: taken.outcome.trajectoryRef, seed: input.reflectSeed } : null,
    });
    return taken;
  }
}

/** The branch loop's port as direct calls: the session above and the inference activities. */
export function directPort(acts: InProcessActivities, branch: BranchInput, timings: StepTiming[] | null): BranchPort {
  const workflowId = `${branch.episodeId}/${branch.branchId}`;
  return {
    workflowId,
    session: new DirectSession(acts, workflowId, branch, timings),
    llm: {
      act: (input) => call(acts.llm.act, input, workflowId),
      reflect: (input) => call(acts.llm.reflect, input, workflowId),
    },
  };
}

/** One episode, branches one at a time, as episodeWorkflow + branchWorkflow run it. */
export function runEpisodeAsync(acts: InProcessActivities, episodeId: string, input: EpisodeInput, timings: StepTiming[] | null): Promise<EpisodeTree> {
  const strategy = stepStrategyFor(input.inference);
  return exploreEpisode(input, episodeId, (branch) => exploreBranch(branch, strategy, directPort(acts, branch, timings)));
}
