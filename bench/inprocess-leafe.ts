/**
 * LEAFE exploration without Temporal: the logic of workflows/episode-workflow.ts and
 * workflows/branch-workflow.ts, ported line by line onto direct calls of the SAME activity
 * functions (createEnvironmentActivities, createInferenceActivities). No history, no task
 * queues, no retries, no crash recovery: this is the no-durability baseline.
 *
 * The activities read Context.current() (heartbeats, cancellation signal), so each call runs
 * inside `new MockActivityEnvironment().run(fn, input)` from @temporalio/testing: that only
 * provides the activity context; the activity code itself is the real one.
 *
 * Two schedules over the same decision logic (BranchRunner):
 * - `runEpisodeAsync`: each episode runs on its own, as a Temporal episodeWorkflow does, and
 *   takes each step with ONE `takeStep` call (act + env step + reflection when due, on the
 *   session's worker), built exactly as branch-workflow.ts builds it;
 * - `runLockstep`: a batch of episodes advances in rounds with a barrier after each phase
 *   (open, act, step, reflect), the synchronous rollout loop of common agent-RL frameworks. Its
 *   phases are separate by definition, so it calls `act`, `stepEnvironment` and `reflect`.
 */
import { actsAfterReplay, askForStep, outcomeAfterStep, planReflection, type BranchAsking, type ReflectionPlan, type StepAsk } from '../core/branch-decisions';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { EnvironmentActivities, OpenEnvironmentResult, StepOutcome, TakeStepInput, TakeStepResult } from '../contract/environment-activities';
import { createEnvironmentActivities } from '../activities/environment/environment-activities';
import type { ActInput, InferenceActivities, ReflectInput, ReflectResult } from '../contract/inference-activities';
import { createInferenceActivities } from '../activities/inference/inference-activities';
import { providerFor } from '../envs/registry';
import { createInferenceClient } from '../inference/inference-client';
import type { Text } from '../core/text';
import { addUsage, NO_USAGE, type BranchOutcome, type BranchRecord, type ReflectionRecord, type StepRecord, type TokenUsage } from '../core/tree';
import { ArtifactStore } from '../infra/artifact-store';
import { CompletionJournal } from '../activities/inference/completion-journal';
import type { BranchRequest, EpisodeInput, QueuedBranch } from '../contract/episode-types';

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
function call<I, O>(fn: (input: I) => Promise<O>, input: I, workflowId?: string): Promise<O> {
  const info = workflowId ? { workflowExecution: { workflowId, runId: '00000000-0000-0000-0000-000000000000' } } : undefined;
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

export interface InProcessEpisode {
  episodeId: string;
  taskId: string;
  success: boolean;
  used: number;
  replayed: number;
  branches: BranchRecord[];
  usage: TokenUsage;
}


/** The state of one branch, advanced phase by phase (branch-workflow.ts, minus Temporal). */
class BranchRunner {
  steps: StepRecord[] = [];
  reflections: ReflectionRecord[] = [];
  requests: BranchRequest[] = [];
  usage = NO_USAGE;
  newSteps = 0;
  outcome: BranchOutcome | null = null;
  rollback: BranchRequest | undefined;
  opened!: OpenEnvironmentResult;
  private trajectoryRef = '';
  /** `takeStep` closed the session (the branch ended with its step): nothing left to close. */
  private closed = false;
  private pendingAct: { ask: StepAsk; action: Text; usage: TokenUsage; input: ActInput } | null = null;
  private pendingReflect: { ask: StepAsk; plan: ReflectionPlan } | null = null;

  constructor(
    private readonly acts: InProcessActivities,
    readonly episodeId: string,
    readonly branchId: string,
    private readonly q: QueuedBranch,
    private readonly input: EpisodeInput,
    private readonly allowance: number,
    private readonly canRequestBranches: boolean,
    private readonly maxRequests: number,
    private readonly timings: StepTiming[] | null,
  ) {}

  get depth(): number {
    return this.q.depth;
  }

  private get workflowId(): string {
    return `${this.episodeId}/${this.branchId}`;
  }

  private get sessionId(): string {
    return `${this.workflowId}#0`;
  }

  async open(): Promise<void> {
    this.adopt(await call(this.acts.env.openEnvironment, { sessionId: this.sessionId, env: this.input.env, taskId: this.input.taskId, seed: this.input.seed, replay: this.q.prefix }, this.workflowId));
  }

  private adopt(opened: OpenEnvironmentResult): void {
    this.opened = opened;
    this.steps = opened.replayed.map((r, i) => ({ t: i + 1, action: this.q.prefix[i], observation: r.observation, feedback: r.feedback, reward: r.reward, done: r.done, success: r.success, replayed: true }));
    this.trajectoryRef = opened.trajectoryRef;
  }

  /** Whether the branch will act at once, so its first takeStep opens the session (as the workflow does). */
  get opensWithFirstStep(): boolean {
    return actsAfterReplay(this.asking, this.q.prefix.length);
  }

  /** The branch as `askForStep` sees it (the fields of a branch workflow's input). */
  private get asking(): BranchAsking {
    const { leafe, seed } = this.input;
    return { leafe, seed, branchId: this.branchId, tau: this.q.tau, experience: this.q.experience, canRequestBranches: this.canRequestBranches, maxRequests: this.maxRequests, allowance: this.allowance };
  }

  /** What step t asks for, as branch-workflow.ts computes it. */
  private ask(t: number): StepAsk {
    return askForStep(this.asking, t, this.newSteps, this.requests.length);
  }

  /** True when the branch ends before acting (horizon or budget); sets the outcome. */
  endsBeforeAct(): boolean {
    if (this.steps.length >= this.input.leafe.horizon) this.outcome = 'horizon';
    else if (this.newSteps >= this.allowance) this.outcome = 'budget';
    return this.outcome !== null;
  }

  /**
   * One step as branch-workflow.ts takes it: ONE `takeStep` call (act, env step, reflection when
   * due), with the same input the workflow builds, then the same bookkeeping.
   */
  async takeStep(opening = false): Promise<void> {
    const t = opening ? this.q.prefix.length + 1 : this.steps.length + 1;
    const ask = this.ask(t);
    const { decision } = ask;
    const input: TakeStepInput = {
      ...ask,
      sessionId: this.sessionId,
      ...(opening ? { open: { env: this.input.env, taskId: this.input.taskId, seed: this.input.seed, replay: this.q.prefix } } : {}),
      inference: this.input.inference,
      trajectoryRef: opening ? null : this.trajectoryRef,
    };
    const startedAt = performance.now();
    const taken: TakeStepResult = await call(this.acts.env.takeStep, input, this.workflowId);
    const cycleMs = performance.now() - startedAt;
    if (taken.opened) this.adopt(taken.opened);
    if (taken.closed) this.closed = true;
    this.timings?.push({
      episodeId: this.episodeId,
      branchId: this.branchId,
      t,
      cycleMs,
      act: { inference: input.inference, trajectoryRef: input.trajectoryRef ?? taken.opened!.trajectoryRef, experience: input.experience, seed: input.actSeed },
      reflect: taken.reflection ? { inference: input.inference, trajectoryRef: taken.outcome.trajectoryRef, seed: input.reflectSeed } : null,
    });
    this.usage = addUsage(this.usage, taken.actUsage);
    const plan = this.afterStep(t, taken.action, taken.actUsage, taken.outcome, decision);
    if (!plan) return;
    if (!plan.due) return void (this.outcome = outcomeAfterStep(plan, false));
    if (!taken.reflection) throw new Error(`takeStep did not reflect after step ${t} of ${this.workflowId}, but planReflection says a reflection is due`);
    this.recordReflection(t, plan, taken.reflection);
  }

  /** Lock-step phase 1: ask for the action (the `act` activity on its own). */
  async act(): Promise<void> {
    const ask = this.ask(this.steps.length + 1);
    const input: ActInput = { inference: this.input.inference, trajectoryRef: this.trajectoryRef, experience: ask.experience, seed: ask.actSeed };
    const acted = await call(this.acts.llm.act, input, this.workflowId);
    this.usage = addUsage(this.usage, acted.usage);
    this.pendingAct = { ask, action: acted.action, usage: acted.usage, input };
  }

  /** Lock-step phase 2: step the environment with the pending action; decide whether a reflection is due. */
  async step(): Promise<void> {
    const a = this.pendingAct!;
    this.pendingAct = null;
    const r: StepOutcome = await call(this.acts.env.stepEnvironment, { sessionId: this.sessionId, action: a.action }, this.workflowId);
    const plan = this.afterStep(a.ask.t, a.action, a.usage, r, a.ask.decision);
    if (!plan) return;
    if (plan.due) this.pendingReflect = { ask: a.ask, plan };
    else this.outcome = outcomeAfterStep(plan, false);
  }

  get wantsReflection(): boolean {
    return this.pendingReflect !== null;
  }

  /** Lock-step phase 3: the due reflection (the `reflect` activity on its own). */
  async reflect(): Promise<void> {
    const { ask, plan } = this.pendingReflect!;
    this.pendingReflect = null;
    const reflected = await call(this.acts.llm.reflect, { inference: this.input.inference, trajectoryRef: this.trajectoryRef, seed: ask.reflectSeed }, this.workflowId);
    this.recordReflection(ask.t, plan, reflected);
  }

  /**
   * Records a new step (the workflow's bookkeeping after the step returned). Returns null when
   * the branch succeeded, otherwise the reflection plan (the same decision functions as
   * workflows/branch-workflow.ts).
   */
  private afterStep(t: number, action: Text, usage: TokenUsage, r: StepOutcome, decision: StepAsk['decision']): ReflectionPlan | null {
    this.trajectoryRef = r.trajectoryRef;
    this.newSteps++;
    this.steps.push({ t, action, observation: r.observation, feedback: r.feedback, reward: r.reward, done: r.done, success: r.success, replayed: false, usage });
    if (r.success) {
      this.outcome = 'success';
      return null;
    }
    return planReflection({ ...decision, failed: r.failed, done: r.done });
  }

  private recordReflection(t: number, plan: ReflectionPlan, reflected: ReflectResult): void {
    this.usage = addUsage(this.usage, reflected.usage);
    const p = reflected.parsed;
    this.reflections.push({ afterStep: t, step: p.step, experience: p.experience, raw: reflected.raw, valid: p.valid, error: p.valid ? undefined : p.error, trigger: plan.onFailure ? 'failure' : 'interval', usage: reflected.usage });
    if (p.valid) this.requests.push({ tau: p.step, experience: p.experience, fromStep: t });
    this.outcome = outcomeAfterStep(plan, p.valid);
    if (this.outcome === 'rollback') this.rollback = this.requests[this.requests.length - 1];
  }

  /** Closes the session unless `takeStep` already did (closing a missing session is harmless anyway). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await call(this.acts.env.closeEnvironment, { sessionId: this.sessionId }, this.workflowId).catch(() => undefined);
  }

  record(): BranchRecord {
    return {
      id: this.branchId,
      workflowId: `${this.episodeId}/${this.branchId}`,
      parent: this.q.parent,
      depth: this.q.depth,
      tau: this.q.tau,
      experience: this.q.experience,
      steps: this.steps,
      reflections: this.reflections,
      outcome: this.outcome!,
      rollback: this.rollback ? { tau: this.rollback.tau, experience: this.rollback.experience } : undefined,
      newSteps: this.newSteps,
      replayedSteps: this.opened.replayed.length,
      reopens: 0,
      usage: this.usage,
    };
  }
}

/** The episode's BFS queue and budget (episode-workflow.ts, minus Temporal). */
class EpisodeRunner {
  private queue: QueuedBranch[] = [{ parent: null, depth: 0, tau: null, experience: null, prefix: [] }];
  branches: BranchRecord[] = [];
  used = 0;
  replayed = 0;
  usage = NO_USAGE;
  private stopped = false;

  constructor(
    private readonly acts: InProcessActivities,
    readonly episodeId: string,
    private readonly input: EpisodeInput,
    private readonly timings: StepTiming[] | null,
  ) {}

  /** The next branch to run, or null when the episode is over. */
  nextBranch(): BranchRunner | null {
    const { leafe } = this.input;
    if (this.stopped || !(this.queue.length > 0 && this.branches.length < leafe.maxBranches && this.used < leafe.budget)) return null;
    const next = this.queue.shift()!;
    const branchId = `b${this.branches.length}`;
    const canRequestBranches = next.depth < leafe.maxDepth && this.branches.length + 1 + this.queue.length < leafe.maxBranches;
    const maxRequests = Math.max(0, leafe.maxBranches - (this.branches.length + 1 + this.queue.length));
    return new BranchRunner(this.acts, this.episodeId, branchId, next, this.input, leafe.budget - this.used, canRequestBranches, maxRequests, this.timings);
  }

  /** Records a finished branch and queues its requests. */
  finish(branch: BranchRunner, depth: number): void {
    const record = branch.record();
    this.branches.push(record);
    this.used += record.newSteps;
    this.replayed += record.replayedSteps;
    this.usage = addUsage(this.usage, record.usage);
    if (record.outcome === 'success' && this.input.leafe.stopAtFirstSuccess) {
      this.stopped = true;
      return;
    }
    if (depth >= this.input.leafe.maxDepth) return;
    for (const request of branch.requests) {
      this.queue.push({ parent: branch.branchId, depth: depth + 1, tau: request.tau, experience: request.experience, prefix: record.steps.slice(0, request.tau - 1).map((s) => s.action) });
    }
  }

  result(): InProcessEpisode {
    return { episodeId: this.episodeId, taskId: this.input.taskId, success: this.branches.some((b) => b.outcome === 'success'), used: this.used, replayed: this.replayed, branches: this.branches, usage: this.usage };
  }
}

/** One episode, branches one at a time, as episodeWorkflow + branchWorkflow run it: one `takeStep` per step. */
export async function runEpisodeAsync(acts: InProcessActivities, episodeId: string, input: EpisodeInput, timings: StepTiming[] | null): Promise<InProcessEpisode> {
  const episode = new EpisodeRunner(acts, episodeId, input, timings);
  for (let branch = episode.nextBranch(); branch; branch = episode.nextBranch()) {
    try {
      if (branch.opensWithFirstStep) await branch.takeStep(true);
      else await branch.open();
      while (branch.outcome === null && !branch.endsBeforeAct()) await branch.takeStep();
    } finally {
      await branch.close();
    }
    episode.finish(branch, branch.depth);
  }
  return episode.result();
}

/**
 * Lock-step: all episodes of the batch advance together. Each round: every episode without a
 * branch opens its next one (barrier), every open branch acts (barrier), steps (barrier), and
 * those due reflect (barrier). A branch that finishes is closed and its episode opens the next
 * branch in the following round. The decisions are the same as in the asynchronous schedule,
 * so the trees (and the inference requests) are identical; only the timing differs.
 */
export async function runLockstep(acts: InProcessActivities, episodes: Array<{ episodeId: string; input: EpisodeInput }>): Promise<InProcessEpisode[]> {
  const runners = episodes.map((e) => new EpisodeRunner(acts, e.episodeId, e.input, null));
  const active = new Map<EpisodeRunner, BranchRunner>();
  const done = new Set<EpisodeRunner>();
  const finish = async (e: EpisodeRunner, b: BranchRunner) => {
    await b.close();
    e.finish(b, b.depth);
    active.delete(e);
  };
  while (done.size < runners.length) {
    // open phase
    const opening: Array<[EpisodeRunner, BranchRunner]> = [];
    for (const e of runners) {
      if (done.has(e) || active.has(e)) continue;
      const b = e.nextBranch();
      if (!b) done.add(e);
      else opening.push([e, b]);
    }
    await Promise.all(opening.map(([, b]) => b.open()));
    for (const [e, b] of opening) active.set(e, b);
    // branches that end before acting (horizon, budget)
    for (const [e, b] of [...active]) if (b.endsBeforeAct()) await finish(e, b);
    if (active.size === 0) continue;
    const batch = [...active];
    await Promise.all(batch.map(([, b]) => b.act()));
    await Promise.all(batch.map(([, b]) => b.step()));
    const reflecting = batch.filter(([, b]) => b.outcome === null && b.wantsReflection);
    await Promise.all(reflecting.map(([, b]) => b.reflect()));
    for (const [e, b] of batch) if (b.outcome !== null) await finish(e, b);
  }
  return runners.map((r) => r.result());
}
