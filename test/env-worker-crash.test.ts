// Crash recovery = backtracking (DESIGN.md §2): the env worker PROCESS holding a branch's open
// environment is SIGKILLed mid-branch; the branch must re-open the environment on the other
// env worker by reset + replay, ask the LLM nothing twice, and end with the undisturbed tree.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LeafeSettings, EpisodeTimeouts } from '../core/leafe-settings';
import type { EpisodeTree } from '../core/tree';
import { PROJECT_ROOT } from '../infra/paths';
import type { SimServer } from '../sim/sim-server';
import { comparableTree, completedActivities, firstTasks, runEpisode, scheduledActivities, simInference, sleep, startCodeSim, startEpisode } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';
import type { TakeStepInput, TakeStepResult } from '../activities/environment/take-step-activity';

let t: TestTemporal;
let sim: SimServer;
const envWorkers: ChildProcess[] = [];
const envLogs = new Map<number, string[]>();

/** One `--queues env` worker process on this test's queues (session queue named after its pid). */
async function startEnvWorkerProcess(): Promise<ChildProcess> {
  const prefix = t.queues.workflows.replace(/-workflows$/, '');
  expect(`${prefix}-env`).toBe(t.queues.env);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'runtime/worker-main.ts'), '--queues', 'env', '--address', t.address, '--task-queue-prefix', prefix, '--run-dir', t.runDir],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log: string[] = [];
  envLogs.set(child.pid!, log);
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  envWorkers.push(child);
  const deadline = Date.now() + 60_000;
  while (!log.join('').includes('serving env')) {
    if (child.exitCode !== null) throw new Error(`env worker exited ${child.exitCode}: ${log.join('')}`);
    if (Date.now() > deadline) throw new Error(`env worker did not start: ${log.join('')}`);
    await sleep(100);
  }
  return child;
}

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
  await Promise.all([startEnvWorkerProcess(), startEnvWorkerProcess()]);
  const deadline = Date.now() + 30_000;
  while ((await envPollers()) < 2) {
    if (Date.now() > deadline) throw new Error('the two env worker processes never polled the env queue');
    await sleep(200);
  }
});

afterAll(async () => {
  for (const w of envWorkers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  await Promise.all(envWorkers.map((w) => (w.exitCode === null && w.signalCode === null ? new Promise((r) => w.once('exit', r)) : undefined)));
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
  victim!.kill('SIGKILL');
  await new Promise((r) => (victim!.signalCode ? r(undefined) : victim!.once('exit', r)));
  expect(victim!.signalCode).toBe('SIGKILL');

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
