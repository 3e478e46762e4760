/**
 * The benchmark workload (generated Sokoban levels explored with reflection) and the two ways
 * of running it: Temporal workers (episodeWorkflow) and the in-process loop.
 */
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TakeStepInput, TakeStepResult } from '../contract/environment-activities';
import type { ActInput, ReflectInput } from '../contract/inference-activities';
import { loadTrajectory } from '../activities/environment/trajectory';
import { toAgentContext } from '../core/trajectory';
import type { SokobanEnvSpec } from '../core/env-spec';
import { DEFAULT_SAMPLING, type InferenceSettings, type LeafeSettings } from '../core/leafe-settings';
import { renderAgentMessages, renderReflectionMessages } from '../core/prompts';
import type { EpisodeTree } from '../core/tree';
import { ArtifactStore } from '../infra/artifact-store';
import type { LatencySpec } from '../sim/latency';
import { taskQueues, type QueueRole } from '../contract/task-queues';
import type { EpisodeInput } from '../contract/episode-types';
import pLimit from 'p-limit';
import { simRequestKey } from '../sim/sim-server';
import { cpuPer, log, percentile, round, simLatencyMs, tempDir, type BenchTemporal, type CpuSample } from './bench-support';
import { createInProcessActivities, runEpisodeAsync, type StepTiming } from './inprocess-leafe';
import { runLockstep } from './lockstep';

export const SIM_SEED = 7;
export const MODEL = 'sim-base';

/** 7×7 generated levels with 2 boxes (the generator's defaults). */
export function sokobanSpec(count: number): SokobanEnvSpec {
  return { kind: 'sokoban', count, width: 7, height: 7, boxes: 2, seed: 11 };
}

/**
 * Exploration settings of the workload. Reflection on an interval (every 4 new steps) rather
 * than on failure (chosen when Sokoban still counted every non-winning move as a failure; kept so
 * figures stay comparable across runs): branches run several steps and still spawn child
 * branches (prefix replay), so both workflow types do real work.
 */
export const WORKLOAD_LEAFE: LeafeSettings = {
  horizon: 24,
  reflectEvery: 4,
  reflectOnFailure: false,
  maxDepth: 2,
  maxBranches: 4,
  budget: 40,
  stopAtFirstSuccess: true,
  keepExperience: true,
};

export function inferenceSettings(url: string): InferenceSettings {
  return { ...DEFAULT_SAMPLING, baseUrl: url, model: MODEL, timeoutMs: 20_000 };
}

/** One input per task; a distinct seed per episode so sampling seeds never collide across episodes. */
export function episodeInputs(taskIds: string[], env: SokobanEnvSpec, url: string, prefix: string): EpisodeInput[] {
  return taskIds.map((taskId, i) => ({
    taskId,
    env,
    seed: 1000 + i,
    inference: inferenceSettings(url),
    leafe: WORKLOAD_LEAFE,
    queues: taskQueues(prefix),
    // Inference attempts that hang or whose completion the (overloaded) dev server loses would
    // otherwise stall a branch for the default 300 s start-to-close; simulator answers take < 10 s.
    timeouts: { llmStartToCloseMs: 30_000 },
  }));
}

export interface RunSummary {
  wallMs: number;
  /** New environment steps (the budget unit; replayed prefix steps are not counted). */
  steps: number;
  replayed: number;
  branches: number;
  reflections: number;
  solved: number;
  stepsPerSec: number;
  /** A fingerprint of the trees (steps per branch, outcomes) to check both paths did the same work. */
  fingerprint: string;
}

function summarise(wallMs: number, trees: EpisodeTree[]): RunSummary {
  const episodes = trees.map((tr) => ({ taskId: tr.taskId, used: tr.budget.used, replayed: tr.budget.replayed, success: tr.success, branches: tr.branches }));
  const steps = episodes.reduce((n, e) => n + e.used, 0);
  const fingerprint = episodes
    .map((e) => `${e.taskId}:${e.branches.map((b) => `${b.id}/${b.newSteps}/${b.replayedSteps}/${b.outcome}/${b.reflections.length}`).join(',')}`)
    .sort()
    .join(';');
  return {
    wallMs,
    steps,
    replayed: episodes.reduce((n, e) => n + e.replayed, 0),
    branches: episodes.reduce((n, e) => n + e.branches.length, 0),
    reflections: episodes.reduce((n, e) => n + e.branches.reduce((m, b) => m + b.reflections.length, 0), 0),
    solved: episodes.filter((e) => e.success).length,
    stepsPerSec: steps / (wallMs / 1000),
    fingerprint,
  };
}

// ---------------------------------------------------------------------------------------------
// Temporal

export interface TemporalRun {
  summary: RunSummary;
  cpuPerStep: CpuPerStep | null;
  trees: EpisodeTree[];
  runDir: string;
  episodeIds: string[];
}

export interface WorkerTuning {
  concurrency?: Partial<Record<QueueRole, number>>;
}

/** CPU ms per new environment step, by process, over the timed part of a run. */
export type CpuPerStep = CpuSample;

/**
 * Runs the episodes as episodeWorkflows on fresh in-process workers (own task queues and run
 * directory), `concurrency` episodes at a time, and returns the trees and the wall time.
 */
export async function runTemporal(t: BenchTemporal, inputsFor: (prefix: string) => EpisodeInput[], concurrency: number, label: string, tuning: WorkerTuning = {}, cpu?: () => CpuSample): Promise<TemporalRun> {
  const prefix = `bench-${label}-${randomUUID().slice(0, 6)}`;
  const runDir = tempDir(label);
  const queues = taskQueues(prefix);
  const workers = await t.startWorkers({ queues, runDir, concurrency: tuning.concurrency, shutdownGraceTime: '1s' });
  const inputs = inputsFor(prefix);
  const episodeIds = inputs.map((i) => `${prefix}/${i.taskId}`);
  try {
    // Let the pollers connect before the clock starts.
    await new Promise((r) => setTimeout(r, 500));
    const c0 = cpu?.();
    const t0 = performance.now();
    const trees = await pLimit(concurrency).map(inputs, (input, i) =>
      t.client.workflow.execute('episodeWorkflow', { taskQueue: queues.workflows, workflowId: episodeIds[i], args: [input] }) as Promise<EpisodeTree>,
    );
    const wallMs = performance.now() - t0;
    const c1 = cpu?.();
    const steps = trees.reduce((n, tr) => n + tr.budget.used, 0);
    return {
      cpuPerStep: c0 && c1 ? cpuPer(c0, c1, steps) : null,
      summary: summarise(wallMs, trees),
      trees,
      runDir,
      episodeIds,
    };
  } finally {
    await workers.stop().catch((err) => log(`workers failed during run ${label}: ${(err as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------
// In-process

export interface InProcessRun {
  summary: RunSummary;
  cpuPerStep: CpuPerStep | null;
  episodes: EpisodeTree[];
  timings: StepTiming[];
  runDir: string;
}

export async function runInProcess(inputs: EpisodeInput[], concurrency: number, label: string, cpu?: () => CpuSample): Promise<InProcessRun> {
  const runDir = tempDir(label);
  const acts = createInProcessActivities(runDir);
  const timings: StepTiming[] = [];
  const c0 = cpu?.();
  const t0 = performance.now();
  const episodes = await pLimit(concurrency).map(inputs, (input) => runEpisodeAsync(acts, `inproc/${input.taskId}`, input, timings));
  const wallMs = performance.now() - t0;
  const c1 = cpu?.();
  const summary = summarise(wallMs, episodes);
  return { summary, cpuPerStep: c0 && c1 ? cpuPer(c0, c1, summary.steps) : null, episodes, timings, runDir };
}

/** Lock-step batches of `batch` episodes (the whole batch waits for its slowest member). */
export async function runLockstepBatches(inputs: EpisodeInput[], batch: number, label: string): Promise<InProcessRun> {
  const runDir = tempDir(label);
  const acts = createInProcessActivities(runDir);
  const t0 = performance.now();
  const episodes: EpisodeTree[] = [];
  for (let i = 0; i < inputs.length; i += batch) {
    const slice = inputs.slice(i, i + batch);
    episodes.push(...(await runLockstep(acts, slice.map((input) => ({ episodeId: `lockstep/${input.taskId}`, input })))));
  }
  const wallMs = performance.now() - t0;
  return { summary: summarise(wallMs, episodes), cpuPerStep: null, episodes, timings: [], runDir };
}

// ---------------------------------------------------------------------------------------------
// Histories

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export interface WorkflowHistory {
  workflowId: string;
  workflowType: string;
  events: HistoryEvent[];
  bytes: number;
  /** New environment steps this workflow accounts for (episode: all its branches; branch: its own). */
  steps: number;
}

function timeMs(e: HistoryEvent): number {
  const ts = e.eventTime!;
  return Number(ts.seconds ?? 0) * 1000 + (ts.nanos ?? 0) / 1e6;
}

export async function fetchHistories(t: BenchTemporal, run: TemporalRun): Promise<WorkflowHistory[]> {
  const targets: Array<{ workflowId: string; workflowType: string; steps: number }> = [];
  for (const tree of run.trees) {
    targets.push({ workflowId: tree.episodeId, workflowType: 'episodeWorkflow', steps: tree.budget.used });
    for (const b of tree.branches) targets.push({ workflowId: b.workflowId, workflowType: 'branchWorkflow', steps: b.newSteps });
  }
  return pLimit(16).map(targets, async (target) => {
    const history = await t.client.workflow.getHandle(target.workflowId).fetchHistory();
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    return { ...target, events: history.events ?? [], bytes };
  });
}

/** Events and bytes of history per new environment step, per workflow type (sum over sum). */
export function historyCost(histories: WorkflowHistory[]) {
  const byType = new Map<string, { events: number; bytes: number; steps: number; workflows: number }>();
  for (const h of histories) {
    const agg = byType.get(h.workflowType) ?? { events: 0, bytes: 0, steps: 0, workflows: 0 };
    agg.events += h.events.length;
    agg.bytes += h.bytes;
    agg.steps += h.steps;
    agg.workflows++;
    byType.set(h.workflowType, agg);
  }
  const eventsPerStep: Record<string, number> = {};
  const bytesPerStep: Record<string, number> = {};
  const detail: Record<string, { events: number; bytes: number; steps: number; workflows: number }> = {};
  let events = 0;
  let bytes = 0;
  let steps = 0;
  for (const [type, agg] of byType) {
    eventsPerStep[type] = agg.events / agg.steps;
    bytesPerStep[type] = agg.bytes / agg.steps;
    detail[type] = agg;
    events += agg.events;
    bytes += agg.bytes;
    if (type === 'episodeWorkflow') steps = agg.steps;
  }
  return { eventsPerStep, bytesPerStep, totalEventsPerStep: events / steps, totalBytesPerStep: bytes / steps, detail };
}

/** Events by type in branch histories, per new step (where the events go). */
export function branchEventMix(histories: WorkflowHistory[]): Record<string, number> {
  const counts = new Map<string, number>();
  let steps = 0;
  for (const h of histories) {
    if (h.workflowType !== 'branchWorkflow') continue;
    steps += h.steps;
    for (const e of h.events) {
      const name = EventType[e.eventType ?? 0] ?? String(e.eventType);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k.replace(/^EVENT_TYPE_/, ''), v / steps]));
}

/**
 * Per-step cycle times of branchWorkflows from their histories: from the `takeStep` activity's
 * ActivityTaskScheduled to the WorkflowTaskCompleted that follows its ActivityTaskCompleted (the
 * moment the workflow has decided what to do next). Same span as the in-process loop's
 * `takeStep` call. Returns the step's act request and, when the step reflected (its result has a
 * reflection), the reflection request: both latencies are in the cycle.
 * Branches recorded before `takeStep` (act on the llm queue, then stepEnvironment) are still
 * read: act scheduled → the workflow task after stepEnvironment completed (reflection not in it).
 */
export function temporalStepTimings(histories: WorkflowHistory[]): StepTiming[] {
  const out: StepTiming[] = [];
  const decode = (p: temporal.api.common.v1.IPayload | null | undefined): unknown => (p ? defaultPayloadConverter.fromPayload(p) : undefined);
  for (const h of histories) {
    if (h.workflowType !== 'branchWorkflow') continue;
    const episodeId = h.workflowId.slice(0, h.workflowId.lastIndexOf('/'));
    const branchId = h.workflowId.slice(h.workflowId.lastIndexOf('/') + 1);
    // awaitId: the scheduled event whose completion ends the step (takeStep, or stepEnvironment in the old form).
    let current: { t0: number; t: number; act: ActInput; takeStep: TakeStepInput | null; awaitId: number | null; reflect: ReflectInput | null; done: boolean } | null = null;
    let oldFormSteps = 0;
    for (const e of h.events) {
      const id = Number(e.eventId);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        const attrs = e.activityTaskScheduledEventAttributes!;
        const type = attrs.activityType?.name ?? '';
        if (type === 'takeStep') {
          const input = decode(attrs.input?.payloads?.[0]) as TakeStepInput;
          // A takeStep scheduled again for the same step (after a lost session and a re-open) keeps the first start.
          const t0: number = current && !current.done && current.takeStep?.t === input.t ? current.t0 : timeMs(e);
          // An opening step (input.open) renders from the opened trajectory, known at its completion.
          const act: ActInput = { inference: input.inference, trajectoryRef: input.trajectoryRef ?? '', experience: input.experience, seed: input.actSeed };
          current = { t0, t: input.t, act, takeStep: input, awaitId: id, reflect: null, done: false };
        } else if (type === 'act') {
          current = { t0: timeMs(e), t: ++oldFormSteps, act: decode(attrs.input?.payloads?.[0]) as ActInput, takeStep: null, awaitId: null, reflect: null, done: false };
        } else if (type === 'stepEnvironment' && current && !current.takeStep) {
          current.awaitId = id;
        }
      } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const attrs = e.activityTaskCompletedEventAttributes!;
        if (current && current.awaitId === Number(attrs.scheduledEventId)) {
          current.done = true;
          if (current.takeStep) {
            const result = decode(attrs.result?.payloads?.[0]) as TakeStepResult;
            if (result.opened) current.act = { ...current.act, trajectoryRef: result.opened.trajectoryRef };
            if (result.reflection) current.reflect = { inference: current.takeStep.inference, trajectoryRef: result.outcome.trajectoryRef, seed: current.takeStep.reflectSeed };
          }
        }
      } else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && current?.done) {
        out.push({ episodeId, branchId, t: current.t, cycleMs: timeMs(e) - current.t0, act: current.act, reflect: current.reflect });
        current = null;
      }
    }
  }
  return out;
}

/** The simulator's request key of an act request, recomputed from its input (sim/sim-server.ts contentKey). */
async function actKey(store: ArtifactStore, a: ActInput): Promise<string> {
  const trajectory = await loadTrajectory(store, a.trajectoryRef);
  return simRequestKey({ model: a.inference.model, messages: renderAgentMessages(toAgentContext(trajectory, a.experience)), seed: a.seed, wantsReflection: false });
}

/** The same for a reflection request (rendered without the lesson, sent with a json_schema response format). */
async function reflectKey(store: ArtifactStore, r: ReflectInput): Promise<string> {
  const trajectory = await loadTrajectory(store, r.trajectoryRef);
  return simRequestKey({ model: r.inference.model, messages: renderReflectionMessages(toAgentContext(trajectory, null)), seed: r.seed, wantsReflection: true });
}

export type TimedStep = StepTiming & {
  /** Simulated latency of the step's requests: act, plus the reflection when the step had one. */
  latencyMs: number;
  key: string;
  reflectKey: string | null;
  reflectLatencyMs: number;
};

/** The simulated latency of each timed step's requests (act and, if any, reflection), recomputed from their inputs. */
export async function attachLatencies(timings: StepTiming[], runDir: string, latency: LatencySpec): Promise<TimedStep[]> {
  const store = ArtifactStore.forRunDir(runDir);
  return pLimit(32).map(timings, async (s) => {
    const key = await actKey(store, s.act);
    const rKey = s.reflect ? await reflectKey(store, s.reflect) : null;
    const reflectLatencyMs = rKey ? simLatencyMs(latency, SIM_SEED, rKey) : 0;
    return { ...s, key, reflectKey: rKey, reflectLatencyMs, latencyMs: simLatencyMs(latency, SIM_SEED, key) + reflectLatencyMs };
  });
}

/** p50/p95 (ms) of one kind of gap between history events. */
export interface Gap {
  p50: number;
  p95: number;
  n: number;
}

/**
 * Where a step's time goes between the server and the workers, from the event times of the
 * histories: activity schedule → start (dispatch to a worker), workflow task schedule → start
 * (dispatch), workflow task start → complete (the worker runs the workflow code and the server
 * records the result), and episode start → its root branch's first `takeStep` start (the start-up
 * chain: episode task, child start, branch task, open, branch task).
 */
export function hopLatencies(histories: WorkflowHistory[]): Record<'activityScheduleToStart' | 'workflowTaskScheduleToStart' | 'workflowTaskStartToComplete' | 'episodeStartToFirstStep', Gap> {
  const gaps = { activityScheduleToStart: [] as number[], workflowTaskScheduleToStart: [] as number[], workflowTaskStartToComplete: [] as number[], episodeStartToFirstStep: [] as number[] };
  const firstStepStart = new Map<string, number>();
  for (const h of histories) {
    const scheduled = new Map<number, { at: number; type: string }>();
    let wftScheduled: number | null = null;
    let wftStarted: number | null = null;
    for (const e of h.events) {
      const at = timeMs(e);
      const a = e.activityTaskScheduledEventAttributes;
      if (a) scheduled.set(Number(e.eventId), { at, type: a.activityType?.name ?? '' });
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const s = scheduled.get(Number(started.scheduledEventId));
        if (s) {
          gaps.activityScheduleToStart.push(at - s.at);
          const episodeId = h.workflowId.slice(0, h.workflowId.lastIndexOf('/'));
          if (h.workflowType === 'branchWorkflow' && h.workflowId.endsWith('/b0') && s.type === 'takeStep' && !firstStepStart.has(episodeId)) firstStepStart.set(episodeId, at);
        }
      }
      if (e.workflowTaskScheduledEventAttributes) wftScheduled = at;
      if (e.workflowTaskStartedEventAttributes && wftScheduled !== null) {
        gaps.workflowTaskScheduleToStart.push(at - wftScheduled);
        wftStarted = at;
      }
      if (e.workflowTaskCompletedEventAttributes && wftStarted !== null) gaps.workflowTaskStartToComplete.push(at - wftStarted);
    }
  }
  for (const h of histories) {
    const first = firstStepStart.get(h.workflowId);
    if (h.workflowType === 'episodeWorkflow' && first !== undefined && h.events[0]) gaps.episodeStartToFirstStep.push(first - timeMs(h.events[0]));
  }
  const summary = (v: number[]): Gap => ({ p50: round(percentile(v, 0.5), 1), p95: round(percentile(v, 0.95), 1), n: v.length });
  return {
    activityScheduleToStart: summary(gaps.activityScheduleToStart),
    workflowTaskScheduleToStart: summary(gaps.workflowTaskScheduleToStart),
    workflowTaskStartToComplete: summary(gaps.workflowTaskStartToComplete),
    episodeStartToFirstStep: summary(gaps.episodeStartToFirstStep),
  };
}
