// Crash recovery = backtracking (DESIGN.md §2): the env worker PROCESS holding a branch's open
// environment is SIGKILLed mid-branch; the branch must re-open the environment on the other
// env worker by reset + replay, ask the LLM nothing twice, and end with the undisturbed tree.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LeafeSettings, EpisodeTimeouts } from '../core/leafe-settings';
import type { EpisodeTree } from '../core/tree';
import type { WorkerProcess } from '../runtime/worker-process';
import type { SimServer } from '../sim/sim-server';
import { comparableTree, completedActivities, firstTasks, runEpisode, scheduledActivities, simInference, sleep, startCodeSim, startEpisode } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';
import type { TakeStepInput, TakeStepResult } from '../contract/environment-activities';

let t: TestTemporal;
let sim: SimServer;
/** Two `--queues env` worker processes on this test's queues (session queues named after their pids). */
let envWorkers: WorkerProcess[] = [];

async function envPollers(): Promise<number> {
  const r = await t.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: t.queues.env, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return new Set((r.pollers ?? []).map((p) => p.identity)).size;
}

beforeAll(async () => {
  t = await testTemporal('env-crash');
  await t.startWorkers({ roles: ['workflows', 'llm'] });
  // Slow inference: every step activity (act + step on the env worker) takes ~1 s.
  // firstTry 0: the root fails its first attempt, so it reaches a second step to interrupt.
  sim = await startCodeSim({ seed: 5, latency: { meanMs: 1000, distribution: 'fixed' }, skill: { firstTry: 0 } });
  envWorkers = await Promise.all([t.startWorkerProcess('env'), t.startWorkerProcess('env')]);
  const deadline = Date.now() + 30_000;
  while ((await envPollers()) < 2) {
    if (Date.now() > deadline) throw new Error('the two env worker processes never polled the env queue');
    await sleep(200);
  }
});

afterAll(async () => {
  await sim?.close();
  await t?.close();
});

const LEAFE: Partial<LeafeSettings> = { horizon: 4, budget: 6, reflectOnFailure: false, reflectEvery: 2, stopAtFirstSuccess: false };
// A step in flight on the killed worker is noticed after 3 s without heartbeats; its retry then
// finds no poller on the dead worker's queue within 2 s.
const TIMEOUTS: Partial<EpisodeTimeouts> = { sessionScheduleToStartMs: 2000, stepStartToCloseMs: 15_000, llmHeartbeatMs: 3000 };
const SEED = 42;

function pidOfSessionQueue(queue: string): number {
  const m = /-(\d+)-[0-9a-f]{8}$/.exec(queue);
  if (!m) throw new Error(`session queue ${queue} does not end in -<pid>-<id>`);
  return Number(m[1]);
}

/** Waits until branch b0 has an open session on a worker process and a step in flight after ≥1 step. */
async function waitForOpenSessionMidBranch(handle: WorkflowHandle): Promise<{ sessionQueue: string; stepsDone: number }> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const history = await handle.fetchHistory();
      const scheduled = scheduledActivities(history);
      const completed = completedActivities(history);
      // The branch's first takeStep opened the session (input.open) and says where it lives.
      const steps = scheduled.filter((a) => a.type === 'takeStep');
      const opening = steps.find((a) => (a.input[0] as TakeStepInput).open !== undefined && completed.has(a.eventId));
      const stepsDone = steps.filter((a) => completed.has(a.eventId)).length;
      const last = steps.at(-1);
      if (opening && stepsDone >= 1 && last && !completed.has(last.eventId)) {
        return { sessionQueue: (completed.get(opening.eventId) as TakeStepResult).opened!.sessionQueue, stepsDone };
      }
    } catch {
      // the child workflow does not exist yet
    }
    await sleep(50);
  }
  throw new Error('branch b0 never had a step in flight after a first step');
}

test('SIGKILL of the env worker holding a session: the branch re-opens + replays on the other worker; same tree, no LLM request repeated', async () => {
  const [taskId] = await firstTasks(1);
  const inference = simInference(sim.url);
  const base = { client: t.client, queues: t.queues, taskId, seed: SEED, inference, leafe: LEAFE, timeouts: TIMEOUTS };

  const undisturbed: EpisodeTree = await runEpisode({ ...base, workflowId: `env-crash-reference-${Date.now()}` });
  expect(undisturbed.branches.every((b) => b.reopens === 0)).toBe(true);
  expect(undisturbed.branches[0].newSteps).toBeGreaterThanOrEqual(2);

  sim.resetStats();
  const workflowId = `env-crash-killed-${Date.now()}`;
  const handle = await startEpisode({ ...base, workflowId });
  const branch = t.client.workflow.getHandle(`${workflowId}/b0`);
  const { sessionQueue, stepsDone } = await waitForOpenSessionMidBranch(branch);
  const victimPid = pidOfSessionQueue(sessionQueue);
  const victim = envWorkers.find((w) => w.pid === victimPid);
  expect(victim, `session queue ${sessionQueue} names a pid that is not one of the env worker processes`).toBeDefined();
  const survivor = envWorkers.find((w) => w !== victim)!;
  await victim!.sigkill(); // throws unless the process ended by SIGKILL

  const crashed = (await handle.result()) as EpisodeTree;

  // The killed branch re-opened once and its result is the undisturbed one.
  expect(crashed.branches[0].reopens).toBeGreaterThanOrEqual(1);
  expect(comparableTree(crashed, { ignoreReopens: true })).toEqual(comparableTree(undisturbed, { ignoreReopens: true }));
  // No completed LLM request was asked again: outputs in the history were reused.
  expect(sim.stats().repeatedCompleted).toBe(0);

  // The history shows how: a step whose retry could not start on the dead worker, then a re-open on the
  // survivor replaying every action taken so far.
  const history = await branch.fetchHistory();
  const scheduled = scheduledActivities(history);
  const completed = completedActivities(history);
  // The first open was part of the first takeStep; the re-open is an openEnvironment of its own.
  const opens = scheduled.filter((a) => a.type === 'openEnvironment');
  expect(opens.length).toBeGreaterThanOrEqual(1);
  const reopen = opens[0];
  const replay = (reopen.input[0] as { replay: unknown[] }).replay;
  expect(replay.length).toBeGreaterThanOrEqual(stepsDone);
  expect(replay).toEqual(crashed.branches[0].steps.slice(0, replay.length).map((s) => s.action));
  const reopenedOn = (completed.get(reopen.eventId) as { sessionQueue: string }).sessionQueue;
  expect(pidOfSessionQueue(reopenedOn)).toBe(survivor.pid);
  const timedOut = (history.events ?? []).filter(
    (e) => e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
  );
  expect(timedOut.length).toBeGreaterThanOrEqual(1);
  const lostStep = scheduled.find((a) => a.eventId === Number(timedOut[0].activityTaskTimedOutEventAttributes!.scheduledEventId));
  expect(lostStep?.type).toBe('takeStep');
  expect(lostStep?.taskQueue).toBe(sessionQueue);
});
