// Acceptance of the exploration tree: seeded episodes on HumanEval tasks through the real dev
// server, real sandboxes and the real simulator (behind a recording proxy, so the prompts the
// inference server was really sent can be inspected).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { History } from '@temporalio/common/lib/proto-utils';
import { DEFAULT_LEAFE_SETTINGS, type InferenceRequestsFrom, type LeafeSettings } from '../core/leafe-settings';
import { deriveSeed } from '../core/random';
import { EXPERIENCE_MARKER, TASK_MARKER } from '../core/templates';
import type { Text } from '../core/text';
import type { BranchRecord, EpisodeTree, StepRecord } from '../core/tree';
import { detectIsolation } from '../envs/code/sandbox';
import { ArtifactStore } from '../infra/artifact-store';
import type { SimServer } from '../sim/sim-server';
import type { TakeStepInput, TakeStepResult } from '../contract/environment-activities';
import {
  comparableTree,
  completedActivities,
  firstTasks,
  runEpisode,
  scheduledActivities,
  simInference,
  startCodeSim,
  startRecordingProxy,
  type RecordedRequest,
} from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
let sim: SimServer;
let hopelessSim: SimServer;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
let hopelessProxy: Awaited<ReturnType<typeof startRecordingProxy>>;
let tasks: string[];
let store: ArtifactStore;

beforeAll(async () => {
  t = await testTemporal('episode-tree');
  await t.startWorkers();
  store = ArtifactStore.forRunDir(t.runDir);
  sim = await startCodeSim({ seed: 11 });
  proxy = await startRecordingProxy(sim.url);
  // A model that is never right: every branch runs until a limit stops it, so limits must bind.
  hopelessSim = await startCodeSim({ seed: 11, skill: { firstTry: 0, fixWithFeedback: 0, fixWithExperience: 0 } });
  hopelessProxy = await startRecordingProxy(hopelessSim.url);
  tasks = await firstTasks(5);
  expect(tasks).toHaveLength(5);
});

afterAll(async () => {
  await proxy?.close();
  await hopelessProxy?.close();
  await sim?.close();
  await hopelessSim?.close();
  await t?.close();
});

interface Explored {
  tree: EpisodeTree;
  leafe: LeafeSettings;
  seed: number;
  histories: Map<string, History>;
  requests: RecordedRequest[];
  requestsFrom?: InferenceRequestsFrom;
}

let runCounter = 0;
async function explore(taskId: string, seed: number, overrides: Partial<LeafeSettings>, via: 'normal' | 'hopeless' = 'normal', requestsFrom?: InferenceRequestsFrom): Promise<Explored> {
  const leafe = { ...DEFAULT_LEAFE_SETTINGS, ...overrides };
  const p = via === 'normal' ? proxy : hopelessProxy;
  const workflowId = `episode-tree-${runCounter++}-${taskId}-${seed}`;
  const tree = await runEpisode({ client: t.client, queues: t.queues, workflowId, taskId, seed, inference: { ...simInference(p.url), requestsFrom }, leafe });
  const histories = new Map<string, History>();
  histories.set('episode', await t.client.workflow.getHandle(workflowId).fetchHistory());
  for (const b of tree.branches) histories.set(b.id, await t.client.workflow.getHandle(b.workflowId).fetchHistory());
  // Requests of this task and episode seed (seeds are derived from episode seed, branch id, step).
  const requests = p.requests.filter((r) => firstUser(r).includes(`${TASK_MARKER} ${taskId}\n`));
  return { tree, leafe, seed, histories, requests, requestsFrom };
}

function firstUser(r: RecordedRequest): string {
  return r.body.messages.find((m) => m.role === 'user')?.content ?? '';
}

const envPart = (s: StepRecord) => ({ action: s.action, observation: s.observation, feedback: s.feedback, reward: s.reward, done: s.done, success: s.success });
const resolve = (x: Text) => store.resolve(x);

/** Whether the branch's prompt at step t must carry its experience note. */
function expectsExperience(b: BranchRecord, t: number, leafe: LeafeSettings): boolean {
  return b.experience !== null && b.tau !== null && (t === b.tau || (leafe.keepExperience && t > b.tau));
}

/** Every invariant of a finished tree; returns the number of checked act prompts. */
async function checkTree(x: Explored): Promise<number> {
  const { tree, leafe, seed, histories, requests } = x;
  const byId = new Map(tree.branches.map((b) => [b.id, b]));
  let checkedPrompts = 0;

  // Budget: exact accounting, replayed steps counted apart; branch and depth limits.
  expect(tree.budget.limit).toBe(leafe.budget);
  expect(tree.budget.used).toBe(tree.branches.reduce((n, b) => n + b.newSteps, 0));
  expect(tree.budget.replayed).toBe(tree.branches.reduce((n, b) => n + b.replayedSteps, 0));
  expect(tree.budget.used).toBeLessThanOrEqual(leafe.budget);
  expect(tree.branches.length).toBeLessThanOrEqual(leafe.maxBranches);
  expect(tree.success).toBe(tree.branches.some((b) => b.outcome === 'success'));
  expect(tree.usage.requests).toBe(tree.branches.reduce((n, b) => n + b.usage.requests, 0));
  // Every branch records the sandbox its code ran in (issue 13).
  const level = await detectIsolation();
  for (const b of tree.branches) expect(b.isolation, b.id).toBe(level);

  // The episode started exactly these children, with ids derived from its own.
  const childIds = (histories.get('episode')!.events ?? [])
    .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
    .filter((id): id is string => !!id);
  expect(childIds).toEqual(tree.branches.map((b) => `${tree.episodeId}/${b.id}`));
  tree.branches.forEach((b, i) => expect(b.id).toBe(`b${i}`));

  const stoppedByLimit = tree.budget.used >= leafe.budget || tree.branches.length >= leafe.maxBranches || (leafe.stopAtFirstSuccess && tree.success);

  for (const b of tree.branches) {
    const ctx = `${tree.taskId} ${b.id}`;
    expect(b.steps.map((s) => s.t), ctx).toEqual(b.steps.map((_, i) => i + 1));
    expect(b.steps.length, ctx).toBeLessThanOrEqual(leafe.horizon);
    expect(b.newSteps, ctx).toBe(b.steps.filter((s) => !s.replayed).length);
    expect(b.replayedSteps, ctx).toBe(b.steps.filter((s) => s.replayed).length);
    expect(b.reopens, ctx).toBe(0);
    expect(b.depth, ctx).toBeLessThanOrEqual(leafe.maxDepth);

    // Children of b are its valid reflections, in order: τ and experience come from them.
    const valid = b.reflections.filter((r) => r.valid);
    const children = tree.branches.filter((c) => c.parent === b.id);
    expect(children.length, ctx).toBeLessThanOrEqual(valid.length);
    if (!stoppedByLimit && b.depth < leafe.maxDepth) expect(children.length, ctx).toBe(valid.length);
    children.forEach((c, i) => {
      expect(c.tau, `${ctx} child ${c.id}`).toBe(valid[i].step);
      expect(c.experience, `${ctx} child ${c.id}`).toBe(valid[i].experience);
      expect(c.depth).toBe(b.depth + 1);
    });
    for (const r of b.reflections) {
      if (r.valid) {
        expect(r.step!).toBeGreaterThanOrEqual(1);
        expect(r.step!).toBeLessThanOrEqual(r.afterStep);
      }
    }
    if (b.outcome === 'rollback') expect(b.rollback, ctx).toEqual({ tau: valid.at(-1)!.step, experience: valid.at(-1)!.experience });

    const history = histories.get(b.id)!;
    const activities = scheduledActivities(history);
    // One activity opened the session: the first takeStep (input.open) when the branch acts at
    // once and inference is on the env workers, otherwise openEnvironment.
    const opening = activities.filter((a) => a.type === 'openEnvironment' || (a.type === 'takeStep' && (a.input[0] as TakeStepInput).open !== undefined));
    expect(opening, ctx).toHaveLength(1);
    const replayAsked = opening[0].type === 'openEnvironment' ? (opening[0].input[0] as { replay: Text[] }).replay : (opening[0].input[0] as TakeStepInput).open!.replay;
    if (x.requestsFrom !== 'llm-workers' && b.newSteps > 0) expect(opening[0].type, ctx).toBe('takeStep');

    if (b.parent === null) {
      expect(b.depth).toBe(0);
      expect(b.tau).toBeNull();
      expect(b.experience).toBeNull();
      expect(b.replayedSteps).toBe(0);
    } else {
      const parent = byId.get(b.parent)!;
      const tau = b.tau!;
      // The replayed prefix: the parent's steps 1..τ-1, same actions and same environment answers.
      expect(b.replayedSteps, ctx).toBe(tau - 1);
      expect(b.steps.slice(0, tau - 1).every((s) => s.replayed), ctx).toBe(true);
      expect(b.steps.slice(tau - 1).every((s) => !s.replayed), ctx).toBe(true);
      expect(b.steps.slice(0, tau - 1).map(envPart), ctx).toEqual(parent.steps.slice(0, tau - 1).map(envPart));
      expect(replayAsked, ctx).toEqual(parent.steps.slice(0, tau - 1).map((s) => s.action));
    }

    // What each step's activities were asked (workflow history) ...
    const newSteps = b.steps.filter((s) => !s.replayed);
    if (x.requestsFrom === 'llm-workers') {
      // One activity per call: act on the llm queue, the step on the session worker, reflect on the llm queue.
      const acts = activities.filter((a) => a.type === 'act');
      expect(acts.length, ctx).toBe(newSteps.length);
      expect(acts.every((a) => a.taskQueue === t.queues.llm), ctx).toBe(true);
      newSteps.forEach((s, i) => expect((acts[i].input[0] as { seed: number }).seed).toBe(deriveSeed(seed, b.id, s.t, 'act')));
      expect(activities.filter((a) => a.type === 'stepEnvironment').length, ctx).toBe(newSteps.length);
      expect(activities.filter((a) => a.type === 'reflect').length, ctx).toBe(b.reflections.length);
      expect(activities.filter((a) => a.type === 'takeStep'), ctx).toEqual([]);
    } else {
      const takes = activities.filter((a) => a.type === 'takeStep');
      const acts = takes.map((a) => a.input[0] as TakeStepInput);
      expect(acts.length, ctx).toBe(newSteps.length);
      newSteps.forEach((s, i) => {
        expect(acts[i].t).toBe(s.t);
        expect(acts[i].actSeed).toBe(deriveSeed(seed, b.id, s.t, 'act'));
        expect(acts[i].experience, `${ctx} act at t=${s.t}`).toBe(expectsExperience(b, s.t, leafe) ? b.experience : null);
      });
      // One activity per step: no separate inference or step activities, reflections ride along.
      expect(activities.filter((a) => ['act', 'reflect', 'stepEnvironment'].includes(a.type)), ctx).toEqual([]);
      const results = completedActivities(history);
      const reflected = takes.map((a) => results.get(a.eventId) as TakeStepResult).filter((r) => r.reflection !== null);
      expect(reflected.length, ctx).toBe(b.reflections.length);
    }

    // ... and what the inference server really received: h_t with the lesson from τ on only.
    for (const s of newSteps) {
      const sent = requests.filter((r) => r.body.seed === deriveSeed(seed, b.id, s.t, 'act') && !r.body.response_format);
      expect(sent.length, `${ctx} requests for t=${s.t}`).toBeGreaterThanOrEqual(1);
      const messages = sent[0].body.messages;
      expect(sent.every((r) => JSON.stringify(r.body.messages) === JSON.stringify(messages))).toBe(true);
      expect(messages).toHaveLength(2 + 2 * (s.t - 1));
      const assistant = messages.filter((m) => m.role === 'assistant').map((m) => m.content);
      expect(assistant).toEqual(await Promise.all(b.steps.slice(0, s.t - 1).map((p) => resolve(p.action))));
      for (const [i, prev] of b.steps.slice(0, s.t - 1).entries()) {
        const user = messages[3 + 2 * i].content;
        expect(user).toContain(await resolve(prev.feedback));
        expect(user).toContain(await resolve(prev.observation));
      }
      const last = messages[messages.length - 1].content;
      if (expectsExperience(b, s.t, leafe)) {
        expect(last, `${ctx} prompt at t=${s.t}`).toContain(`${EXPERIENCE_MARKER} ${b.experience}`);
        for (const m of messages.slice(0, -1)) expect(m.content).not.toContain(b.experience!);
      } else {
        expect(messages.some((m) => m.content.includes(EXPERIENCE_MARKER)), `${ctx} prompt at t=${s.t}`).toBe(false);
      }
      checkedPrompts++;
    }
    // The parent's own prompts up to τ never carried this branch's lesson.
    if (b.parent !== null && b.experience !== null) {
      const parent = byId.get(b.parent)!;
      for (const s of parent.steps.filter((p) => !p.replayed && p.t <= b.tau!)) {
        const sent = requests.filter((r) => r.body.seed === deriveSeed(seed, parent.id, s.t, 'act') && !r.body.response_format);
        expect(sent.length).toBeGreaterThanOrEqual(1);
        if (parent.experience !== b.experience) for (const m of sent[0].body.messages) expect(m.content).not.toContain(b.experience);
      }
    }
  }
  // Reflection prompts never carry a lesson (h_τ for distillation is rendered without it).
  for (const r of requests.filter((q) => q.body.response_format)) expect(r.body.messages.some((m) => m.content.includes(EXPERIENCE_MARKER))).toBe(false);
  return checkedPrompts;
}

// Interval reflections and no stop at the first success: branches with multi-step prefixes.
const INTERVAL: Partial<LeafeSettings> = { reflectOnFailure: false, reflectEvery: 2, stopAtFirstSuccess: false };

describe('episode trees on 5 HumanEval tasks', () => {
  let interval: Explored[];

  test('interval reflections (every 2 steps): multi-step prefixes replayed exactly, τ/experience from the parent reflection, lesson in the prompt from τ on', async () => {
    interval = await Promise.all(tasks.map((id) => explore(id, 101, INTERVAL)));
    let prompts = 0;
    for (const x of interval) prompts += await checkTree(x);
    const all = interval.flatMap((x) => x.tree.branches);
    // Not vacuous: branches exist and some re-did a step after a multi-step prefix.
    expect(all.filter((b) => b.parent !== null).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...all.map((b) => b.replayedSteps))).toBeGreaterThanOrEqual(2);
    expect(all.some((b) => b.parent !== null && b.newSteps >= 2)).toBe(true);
    expect(prompts).toBeGreaterThanOrEqual(10);
  });

  test('default settings (reflect on failure): the same invariants hold', async () => {
    const runs = await Promise.all(tasks.map((id) => explore(id, 202, {})));
    for (const x of runs) await checkTree(x);
    expect(runs.flatMap((x) => x.tree.branches).filter((b) => b.parent !== null).length).toBeGreaterThanOrEqual(1);
    expect(runs.flatMap((x) => x.tree.branches).some((b) => b.outcome === 'rollback')).toBe(true);
  });

  test('keepExperience false: the lesson is in the prompt at τ only', async () => {
    const runs = await Promise.all(tasks.slice(0, 3).map((id) => explore(id, 303, { ...INTERVAL, reflectEvery: 1, keepExperience: false, stopAtFirstSuccess: false })));
    for (const x of runs) await checkTree(x);
    // Not vacuous: a branch with a lesson acted after τ.
    expect(runs.flatMap((x) => x.tree.branches).some((b) => b.experience !== null && b.newSteps >= 2)).toBe(true);
  });

  test('inference on the llm workers (requestsFrom llm-workers: one activity per call) gives the same trees', async () => {
    const split = await Promise.all(tasks.map((id) => explore(id, 101, INTERVAL, 'normal', 'llm-workers')));
    for (const x of split) await checkTree(x);
    split.forEach((x, i) => expect(comparableTree(x.tree)).toEqual(comparableTree(interval[i].tree)));
  });

  test('determinism: the same seeded episodes run again give identical trees', async () => {
    const again = await Promise.all(tasks.map((id) => explore(id, 101, INTERVAL)));
    again.forEach((x, i) => {
      expect(x.tree.episodeId).not.toBe(interval[i].tree.episodeId);
      expect(comparableTree(x.tree)).toEqual(comparableTree(interval[i].tree));
    });
  });
});

describe('limits bind exactly (a model that is never right)', () => {
  test('budget 3, maxDepth 1, maxBranches 2: root rolls back after 1 step, its child spends the 2 left', async () => {
    const x = await explore(tasks[0], 401, { budget: 3, maxDepth: 1, maxBranches: 2, horizon: 4 }, 'hopeless');
    await checkTree(x);
    const { tree } = x;
    expect(tree.success).toBe(false);
    expect(tree.budget.used).toBe(3);
    expect(tree.branches).toHaveLength(2);
    expect(Math.max(...tree.branches.map((b) => b.depth))).toBe(1);
    expect(tree.branches.map((b) => [b.outcome, b.newSteps])).toEqual([
      ['rollback', 1],
      ['budget', 2],
    ]);
  });

  test('maxBranches 2 stops the episode at 2 branches, and the root stops asking once the one free slot is taken', async () => {
    const x = await explore(tasks[1], 402, { budget: 20, maxDepth: 1, maxBranches: 2, horizon: 3, reflectOnFailure: false, reflectEvery: 1 }, 'hopeless');
    await checkTree(x);
    const [root, child] = x.tree.branches;
    expect(x.tree.branches).toHaveLength(2);
    // One branch slot is left besides the root: one valid request, then no more reflections
    // (each would be an LLM call whose lesson no branch could act on).
    expect(root.reflections.filter((r) => r.valid)).toHaveLength(1);
    expect(root.outcome).toBe('horizon');
    expect(child.outcome).toBe('horizon');
    expect(child.steps).toHaveLength(3);
    expect(child.reflections).toHaveLength(0); // depth 1 = maxDepth: no lesson could be acted on
    expect(x.tree.budget.used).toBe(3 + child.newSteps);
    expect(x.tree.budget.replayed).toBe(child.tau! - 1);
  });

  test('budget 3 cuts a single branch at exactly 3 new steps', async () => {
    const x = await explore(tasks[2], 403, { budget: 3, horizon: 10, reflectOnFailure: false, reflectEvery: 0 }, 'hopeless');
    await checkTree(x);
    expect(x.tree.branches).toHaveLength(1);
    expect(x.tree.branches[0].outcome).toBe('budget');
    expect(x.tree.budget).toEqual({ used: 3, limit: 3, replayed: 0 });
  });

  test('maxDepth 2: the chain of rollbacks stops at depth 2', async () => {
    const x = await explore(tasks[3], 404, { budget: 20, maxDepth: 2, maxBranches: 8, horizon: 4 }, 'hopeless');
    await checkTree(x);
    expect(x.tree.branches.map((b) => [b.depth, b.outcome, b.newSteps])).toEqual([
      [0, 'rollback', 1],
      [1, 'rollback', 1],
      [2, 'horizon', 4],
    ]);
    expect(x.tree.budget.used).toBe(6);
  });
});
