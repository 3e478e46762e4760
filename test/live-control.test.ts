// Live control of a running experiment (issue 5): pause lets running children finish and starts
// nothing new, resume goes on to completion, setConcurrency changes how many exploration
// episodes run at once, and cancel ends the experiment CANCELLED, cancels its children and kills
// the trainer's process group. Pause and concurrency hold across continue-as-new (issue 13).
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { SokobanEnvSpec } from '../core/env-spec';
import type { ExperimentConfig, ExperimentInput, Method, TrainerConfig } from '../contract/experiment-config';
import { pauseSignal, resumeSignal, setConcurrencySignal, statusQuery } from '../contract/experiment-messages';
import { DEFAULT_LEAFE_SETTINGS, DEFAULT_SAMPLING } from '../core/leafe-settings';
import { providerFor } from '../envs/registry';
import { simTrainer } from '../spec/sim-trainer';
import { startSimServer, type SimServer } from '../sim/sim-server';
import { simPoliciesFor } from '../sim/sim-policies';
import type { ExperimentStatus } from '../contract/experiment-messages';
import { sleep } from './support/episode-runner';
import { listenOnLoopback } from './support/loopback-server';
import { testTemporal, type TestTemporal } from './support/temporal';

const ENV: SokobanEnvSpec = { kind: 'sokoban', count: 12, width: 6, height: 6, boxes: 1, seed: 7 };
let t: TestTemporal;
let sim: SimServer;
let tasks: string[];

beforeAll(async () => {
  t = await testTemporal('live-control');
  await t.startWorkers();
  // Slow, skilled simulator: episodes last seconds (observable), and most of them succeed (the
  // distilled dataset must not be empty).
  sim = await startSimServer({ seed: 3, policies: await simPoliciesFor(ENV), latency: { meanMs: 250, distribution: 'fixed' }, skill: { firstTry: 0.9, fixWithFeedback: 0.9, fixWithExperience: 0.9 } });
  tasks = await providerFor(ENV).listTasks();
});

afterAll(async () => {
  await sim?.close();
  await t?.close();
});

function config(name: string, overrides: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    name,
    env: ENV,
    trainTasks: tasks.slice(0, 6),
    evalTasks: tasks.slice(10, 11),
    inference: { ...DEFAULT_SAMPLING, baseUrl: sim.url, model: 'sim-base', maxTokens: 64 },
    leafe: { ...DEFAULT_LEAFE_SETTINGS, horizon: 8, budget: 12, maxBranches: 3 },
    distil: { requireSuccess: false, rehearsalFraction: 1, beta: 1 },
    trainer: simTrainer({ epochs: 1, stepsPerEpoch: 2, stepMs: 10 }),
    deploy: { kind: 'sim', baseUrl: sim.url },
    evaluation: { samples: 1, ks: [1], horizon: 8 },
    iterations: 1,
    seed: 5,
    concurrency: { episodes: 1 },
    runDir: t.runDir,
    ...overrides,
  };
}

async function startExperiment(id: string, method: Method, cfg: ExperimentConfig): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const input: ExperimentInput = { experimentId: id, method, config: cfg, queues: t.queues };
  return t.client.workflow.start('experimentWorkflow', { taskQueue: t.queues.workflows, workflowId: id, args: [input] });
}

async function status(h: WorkflowHandle): Promise<ExperimentStatus> {
  return h.query(statusQuery);
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      // not there yet (workflow starting, query racing a workflow task)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Exploration children of an experiment run, from its history, in event order. */
function exploreChildren(history: History) {
  const events = history.events ?? [];
  const initiated: string[] = [];
  const completed: string[] = [];
  /** Running children after each event, and where the setConcurrency signal arrived. */
  const running: number[] = [];
  let signalAt = -1;
  let n = 0;
  for (const e of events) {
    const init = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (init?.workflowId?.includes('/explore/')) {
      initiated.push(init.workflowId);
      n++;
    }
    const done = e.childWorkflowExecutionCompletedEventAttributes;
    if (done?.workflowExecution?.workflowId?.includes('/explore/')) {
      completed.push(done.workflowExecution.workflowId);
      n--;
    }
    if (e.workflowExecutionSignaledEventAttributes?.signalName === 'setConcurrency' && signalAt < 0) signalAt = running.length;
    running.push(n);
  }
  return { initiated, completed, running, signalAt };
}

test('pause during exploration starts nothing new while running episodes finish; setConcurrency + resume: more episodes at once, then it completes', async () => {
  const id = `live-pause-${Date.now()}`;
  const started = await startExperiment(id, 'rft', config('pause'));
  // Iteration 0 is the first run; the experiment continues as new into iteration 1 afterwards.
  const h = t.client.workflow.getHandle(id, started.firstExecutionRunId);
  // Pause as soon as the first exploration episode runs.
  await waitFor('the first exploration episode', async () => (await status(h)).stage === 'explore' && exploreChildren(await h.fetchHistory()).initiated.length >= 1);
  await h.signal(pauseSignal);
  expect((await status(h)).paused).toBe(true);

  // The episodes that were running finish...
  const settled = await waitFor('the running episodes to finish while paused', async () => {
    const c = exploreChildren(await h.fetchHistory());
    return c.completed.length === c.initiated.length ? c : null;
  });
  expect(settled.initiated.length).toBeGreaterThanOrEqual(1);
  expect(settled.initiated.length).toBeLessThan(6);
  // ...and nothing new starts: the count stays flat for a while, tasksDone too.
  const doneWhenSettled = (await status(h)).tasksDone;
  expect(doneWhenSettled).toBe(settled.completed.length);
  await sleep(4000);
  const still = exploreChildren(await h.fetchHistory());
  expect(still.initiated).toEqual(settled.initiated);
  const paused = await status(h);
  expect(paused).toMatchObject({ paused: true, stage: 'explore', tasksDone: doneWhenSettled, tasksTotal: 6, concurrency: 1 });

  // Three at once from now on, then resume.
  await h.signal(setConcurrencySignal, 3);
  expect((await status(h)).concurrency).toBe(3);
  await h.signal(resumeSignal);
  const summary = (await started.result()) as { iterations: Array<{ explore?: { episodes: number } }> };
  expect(summary.iterations[0].explore?.episodes).toBe(6);

  const c = exploreChildren(await h.fetchHistory());
  expect(c.initiated).toHaveLength(6);
  expect(c.signalAt).toBeGreaterThan(0);
  const before = Math.max(...c.running.slice(0, c.signalAt));
  const after = Math.max(...c.running.slice(c.signalAt));
  // concurrency 1 before the signal, 3 after it (6 - settled ≥ 3 episodes were left to run)
  expect(before).toBe(1);
  expect(after).toBe(3);
});

/**
 * A deploy endpoint in front of the simulator that holds every `load_lora_adapter` request until
 * `onLoad` has returned: the test acts while the deploy activity runs. `target` is the
 * simulator's `/v1` URL, the path the proxy's URL has too.
 */
async function slowDeployProxy(target: string, onLoad: () => Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const origin = new URL(target).origin;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (req.url?.endsWith('/load_lora_adapter')) await onLoad();
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const upstream = await fetch(`${origin}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, body });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })().catch((err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      });
    });
  });
  return listenOnLoopback(server);
}

test('pause and concurrency survive continue-as-new: set in iteration 0 (the pause while deploy runs), both hold in iteration 1', async () => {
  const id = `live-carry-${Date.now()}`;
  let h: WorkflowHandle | undefined;
  let pausedDuringDeploy = false;
  const proxy = await slowDeployProxy(sim.url, async () => {
    if (!h || pausedDuringDeploy) return;
    await h.signal(pauseSignal);
    pausedDuringDeploy = true;
  });
  try {
    const started = await startExperiment(id, 'rft', config('carry', { trainTasks: tasks.slice(0, 3), deploy: { kind: 'sim', baseUrl: proxy.url } }));
    // The latest run: queries and signals follow the experiment across continue-as-new.
    h = t.client.workflow.getHandle(id);
    await waitFor('iteration 0 to explore', async () => (await status(h!)).stage === 'explore');
    await h.signal(setConcurrencySignal, 2);
    expect((await status(h)).concurrency).toBe(2);

    // The pause arrives while deploy (the last stage of iteration 0) runs.
    const next = await waitFor('iteration 1', async () => {
      const s = await status(h!);
      return s.iteration === 1 && s.stage === 'evaluate' ? s : null;
    });
    expect(pausedDuringDeploy).toBe(true);
    expect(next).toMatchObject({ iteration: 1, stage: 'evaluate', paused: true, concurrency: 2 });
    // Paused: iteration 1's evaluation does not start.
    await sleep(3000);
    const evaluate1 = t.client.workflow.getHandle(`${id}/it1/evaluate`);
    await expect(evaluate1.describe()).rejects.toThrow(/not found/i);

    await h.signal(resumeSignal);
    const summary = (await t.client.workflow.getHandle(id).result()) as { iterations: unknown[] };
    expect(summary.iterations).toHaveLength(2);
    // Iteration 1's evaluation ran with the concurrency set in iteration 0.
    const started1 = (await evaluate1.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = defaultPayloadConverter.fromPayload<{ concurrency: number }>(started1!.input!.payloads![0]);
    expect(input.concurrency).toBe(2);
    expect(started.firstExecutionRunId).not.toBe((await h.describe()).runId);
  } finally {
    await proxy.close();
  }
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function expectCancelled(h: WorkflowHandle): Promise<void> {
  const err = await h.result().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect((await h.describe()).status.name).toBe('CANCELLED');
}

/** Cancels an experiment while two exploration episodes (each with a running branch) run; returns their ids. */
async function cancelDuringExploration(): Promise<string[]> {
  const id = `live-cancel-explore-${Date.now()}`;
  const h = await startExperiment(id, 'leafe', config('cancel-explore', { concurrency: { episodes: 2 } }));
  const running = await waitFor('two exploration episodes with a running branch', async () => {
    const c = exploreChildren(await h.fetchHistory());
    const open = c.initiated.filter((w) => !c.completed.includes(w));
    if (open.length < 2) return null;
    for (const w of open) if ((await t.client.workflow.getHandle(`${w}/b0`).describe()).status.name !== 'RUNNING') return null;
    return open;
  });
  await h.cancel();
  await expectCancelled(h);
  for (const w of running.flatMap((e) => [e, `${e}/b0`])) {
    const child = t.client.workflow.getHandle(w);
    await waitFor(`${w} to close`, async () => (await child.describe()).status.name !== 'RUNNING', 30_000);
  }
  return running;
}

let cancelledEpisodes: string[] = [];

test('cancel during exploration: the experiment ends CANCELLED and none of its episode children (or their branches) keeps running', async () => {
  cancelledEpisodes = await cancelDuringExploration();
  expect(cancelledEpisodes).toHaveLength(2);
  for (const w of cancelledEpisodes.flatMap((e) => [e, `${e}/b0`])) {
    expect(['CANCELLED', 'TERMINATED']).toContain((await t.client.workflow.getHandle(w).describe()).status.name);
  }
});

// BUG (workflows/bounded-map.ts, `await condition(...)` in the scheduling loop): when the
// experiment is cancelled while boundedMap waits for a free slot, `condition` throws
// CancelledFailure at once and boundedMap returns WITHOUT awaiting the children already running.
// experimentWorkflow then closes CANCELLED and Temporal's default ParentClosePolicy TERMINATEs the
// running episodes and their branches: they end TERMINATED instead of CANCELLED, and the branch's
// `finally { session.close() }` never runs (open environment sessions stay in env worker memory).
// Fix: catch the error of `condition` in the loop (`failure ??= err; break;`) so the existing
// `await Promise.all(running)` waits for the children to acknowledge their cancellation.
// When this passes, drop `.fails`.
test('cancel during exploration: the running episodes and branches end CANCELLED (cancelled, not terminated)', async () => {
  expect(cancelledEpisodes).toHaveLength(2);
  for (const w of cancelledEpisodes.flatMap((e) => [e, `${e}/b0`])) {
    expect((await t.client.workflow.getHandle(w).describe()).status.name, w).toBe('CANCELLED');
  }
});

test('cancel while the trainer runs: the experiment ends CANCELLED and the trainer process group is gone', async () => {
  const id = `live-cancel-train-${Date.now()}`;
  const pidFile = path.join(t.runDir, `${id}.pids`);
  // A trainer whose leader (bash) has a child (sleep): both pids are written, both must die.
  const trainer: TrainerConfig = {
    kind: 'command',
    command: ['bash', '-c', `sleep 600 & echo "$$ $!" > ${pidFile}; wait`],
    baseModel: 'none',
    hyperparameters: {},
  };
  const h = await startExperiment(id, 'rft', config('cancel-train', { trainer, concurrency: { episodes: 6 }, trainTasks: tasks.slice(0, 3) }));
  // (the default test timeout is 3 min; this one waits for training and up to 2 min after the cancel)
  const pids = await waitFor('the trainer to write its pids', async () => {
    if ((await status(h)).stage !== 'train' || !existsSync(pidFile)) return null;
    const text = readFileSync(pidFile, 'utf8').trim();
    return /^\d+ \d+$/.test(text) ? text.split(' ').map(Number) : null;
  });
  for (const pid of pids) expect(pidAlive(pid), `trainer pid ${pid} should be running before the cancel`).toBe(true);

  const cancelledAt = Date.now();
  await h.cancel();
  await expectCancelled(h);
  // The activity learns of the cancellation with its next heartbeat that reaches the server. The
  // SDK throttles heartbeats to min(0.8 × heartbeatTimeout, 60 s); experimentWorkflow's trainer has
  // a 2 min heartbeat timeout, so that can take up to a minute (see the report of issue 5).
  await waitFor('the trainer processes to be gone', async () => pids.every((pid) => !pidAlive(pid)), 120_000);
  for (const pid of pids) expect(pidAlive(pid)).toBe(false);
  process.stderr.write(`live-control: trainer process group gone ${((Date.now() - cancelledAt) / 1000).toFixed(1)} s after the cancel request\n`);
}, 300_000);
