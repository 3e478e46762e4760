// The episode and branch loops are written once (workflows/episode-loop.ts, branch-loop.ts): the
// workflows run them through proxied activities and child workflows, the benchmark's in-process
// baseline through direct calls of the same activity functions, and the lock-step schedule
// through a port whose calls wait at a barrier per phase. All three must build the same trees.
// Real dev server, real sandboxes, real simulator.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import { DEFAULT_LEAFE_SETTINGS, type LeafeSettings } from '../core/leafe-settings';
import type { EpisodeTree } from '../core/tree';
import type { SimServer } from '../sim/sim-server';
import { stepStrategyFor } from '../workflows/step-strategy';
import { createInProcessActivities, runEpisodeAsync, type InProcessActivities, type StepTiming } from '../bench/inprocess-leafe';
import { runLockstep } from '../bench/lockstep';
import { comparableTree, episodeInput, firstTasks, runEpisode, simInference, startCodeSim } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
let sim: SimServer;
let tasks: string[];

// Interval reflections, no stop at the first success: child branches that replay multi-step prefixes.
const LEAFE: LeafeSettings = { ...DEFAULT_LEAFE_SETTINGS, reflectOnFailure: false, reflectEvery: 2, stopAtFirstSuccess: false, budget: 10, maxBranches: 4 };
const SEED = 505;

beforeAll(async () => {
  t = await testTemporal('branch-loop');
  await t.startWorkers();
  sim = await startCodeSim({ seed: 11 });
  tasks = await firstTasks(3);
  expect(tasks).toHaveLength(3);
});

afterAll(async () => {
  await sim?.close();
  await t?.close();
});

const inputFor = (taskId: string) => episodeInput({ client: t.client, queues: t.queues, workflowId: '', taskId, seed: SEED, inference: simInference(sim.url), leafe: LEAFE });

/** The activities with every call's phase and start/end recorded (the calls themselves are the real ones). */
function traced(acts: InProcessActivities, log: Array<{ phase: string; at: 'start' | 'end' }>): InProcessActivities {
  const wrap =
    <I, O>(phase: string, fn: (input: I) => Promise<O>) =>
    async (input: I): Promise<O> => {
      log.push({ phase, at: 'start' });
      try {
        return await fn(input);
      } finally {
        log.push({ phase, at: 'end' });
      }
    };
  return {
    env: { ...acts.env, openEnvironment: wrap('open', acts.env.openEnvironment), stepEnvironment: wrap('step', acts.env.stepEnvironment), closeEnvironment: wrap('close', acts.env.closeEnvironment) },
    llm: { ...acts.llm, act: wrap('act', acts.llm.act), reflect: wrap('reflect', acts.llm.reflect) },
  };
}

describe('one branch loop, three schedules', () => {
  let temporal: EpisodeTree[];
  let inProcess: EpisodeTree[];

  test('the in-process baseline (direct calls, one takeStep per step) builds the trees the workflows build', async () => {
    temporal = await Promise.all(tasks.map((taskId) => runEpisode({ client: t.client, queues: t.queues, workflowId: `branch-loop-${taskId}`, taskId, seed: SEED, inference: simInference(sim.url), leafe: LEAFE })));
    const acts = createInProcessActivities(path.join(t.runDir, 'in-process'));
    const timings: StepTiming[] = [];
    inProcess = await Promise.all(tasks.map((taskId) => runEpisodeAsync(acts, `inproc/${taskId}`, inputFor(taskId), timings)));
    inProcess.forEach((tree, i) => expect(comparableTree(tree)).toEqual(comparableTree(temporal[i])));
    expect(inProcess[0].branches[0].workflowId).toBe(`inproc/${tasks[0]}/b0`);
    // Not vacuous: child branches replayed a multi-step prefix, and every new step was one timed takeStep.
    const branches = inProcess.flatMap((tree) => tree.branches);
    expect(branches.filter((b) => b.parent !== null).length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...branches.map((b) => b.replayedSteps))).toBeGreaterThanOrEqual(2);
    expect(timings).toHaveLength(inProcess.reduce((n, tree) => n + tree.budget.used, 0));
  });

  test('lock-step (activity per call, a barrier after each phase) builds the same trees, one phase in flight at a time', async () => {
    const log: Array<{ phase: string; at: 'start' | 'end' }> = [];
    const acts = traced(createInProcessActivities(path.join(t.runDir, 'lockstep')), log);
    const lockstep = await runLockstep(
      acts,
      tasks.map((taskId) => ({ episodeId: `lockstep/${taskId}`, input: inputFor(taskId) })),
    );
    lockstep.forEach((tree, i) => expect(comparableTree(tree)).toEqual(comparableTree(inProcess[i])));

    // Open, act, step and reflect calls never overlap a call of another phase (closing is no phase).
    const inFlight = new Map<string, number>();
    let widest = 0;
    for (const e of log.filter((x) => x.phase !== 'close')) {
      if (e.at === 'start') {
        for (const [phase, n] of inFlight) if (n > 0) expect(phase, `${e.phase} started while ${n} ${phase} calls were in flight`).toBe(e.phase);
        inFlight.set(e.phase, (inFlight.get(e.phase) ?? 0) + 1);
        widest = Math.max(widest, inFlight.get(e.phase)!);
      } else {
        inFlight.set(e.phase, inFlight.get(e.phase)! - 1);
      }
    }
    // Not vacuous: the episodes of the batch did advance together, and every kind of call was made.
    expect(widest).toBe(tasks.length);
    expect(new Set(log.map((e) => e.phase))).toEqual(new Set(['open', 'act', 'step', 'reflect', 'close']));
  });

  test('the step strategy follows requestsFrom: inference on the llm workers means one activity per call', () => {
    expect(stepStrategyFor(simInference(sim.url))).toBe('take-step');
    expect(stepStrategyFor({ ...simInference(sim.url), requestsFrom: 'env-workers' })).toBe('take-step');
    expect(stepStrategyFor({ ...simInference(sim.url), requestsFrom: 'llm-workers' })).toBe('activity-per-call');
  });
});
