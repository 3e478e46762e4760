// Inference faults during a run reach the user: retries go on, but `leafe status` (and the CLI
// while it waits) show the last failure's message, how many attempts failed, when the next one
// is and whether the run is stalled; a failed workflow prints its root cause. Real Temporal,
// real workers in this process, real loopback servers, the real CLI spawned where it matters.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { experimentSnapshot, followExperiment, renderSnapshot } from '../cli/status-command';
import { startStudy } from '../cli/study';
import { inferenceHealth, renderInferenceHealth } from '../cli/inference-health';
import { freePort } from '../runtime/dev-server';
import { HUMANEVAL_FILE } from '../infra/paths';
import { loadSpec } from '../spec/load-spec';
import { baseStudySpecFile, json, modelList, startFakeInference, type FakeInference } from './support/fake-inference';
import { firstTasks, startEpisode, until as pollUntil } from './support/episode-runner';
import { spawnLeafe } from './support/leafe-cli';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
const servers: FakeInference[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-visibility-'));
const MODEL = 'm';

beforeAll(async () => {
  t = await testTemporal('inference-visibility');
  await t.startWorkers();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await t?.close();
});

async function server(chat: Parameters<typeof startFakeInference>[0]): Promise<FakeInference> {
  const s = await startFakeInference((p) => (p.endsWith('/models') ? modelList(MODEL) : chat(p)));
  servers.push(s);
  return s;
}

/** Polls every 250 ms, for 60 s unless told. */
const until = <T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> => pollUntil(what, fn, timeoutMs, 250);

const terminate = (id: string) => t.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);

test('requests that keep failing: status shows the message, the failed attempts, the next attempt and, past the threshold, stalled', async () => {
  const failing = await server(() => json(500, { error: { message: 'CUDA out of memory (simulated)' } }));
  const loaded = await loadSpec(baseStudySpecFile(dir, 'failing', failing.url, MODEL), { runDir: t.runDir });
  const { record } = await startStudy(t.client, loaded, t.queues, null, `failing-${Date.now()}`);
  const experimentId = record.experiments.base;
  try {
    // Retries every 1, 2, 4 s...: after three failed attempts, with a 3 s threshold.
    const snap = await until('three failed attempts', async () => {
      const s = await experimentSnapshot(t.client, experimentId, { stalledAfterMs: 3000 });
      return s.state === 'running' && s.inference?.last && s.inference.last.attempt >= 4 ? s : null;
    });
    if (snap.state !== 'running') throw new Error('not running');
    const h = snap.inference!;
    expect(h.pending).toBe(1);
    expect(h.failing).toBe(1);
    expect(h.last!.activityType).toBe('takeStep');
    expect(h.last!.message).toContain(`inference server ${failing.url} answered HTTP 500`);
    expect(h.last!.message).toContain('CUDA out of memory (simulated)');
    expect(Date.parse(h.last!.nextAttemptAt!)).toBeGreaterThan(Date.parse(h.last!.lastAttemptAt!));
    expect(h.failingForMs).toBeGreaterThan(3000);
    expect(h.stalled).toBe(true);
    const text = renderSnapshot(snap);
    expect(text).toContain('STALLED: inference failing: 1 of 1 pending request activity retrying');
    expect(text).toMatch(/\d+ failed attempts in a row\): inference server .* answered HTTP 500/);
    expect(text).toContain('next attempt at ');
    // Same run, the default threshold (10 minutes): failing, not stalled.
    const calm = await experimentSnapshot(t.client, experimentId);
    expect(calm.state === 'running' && calm.inference?.stalled).toBe(false);
    expect(renderSnapshot(calm)).toContain('(stalled after 10m 0s)');
    // Every chat request failed; the requests went on (retries are not dropped).
    expect(failing.requests.filter((r) => r.path.endsWith('/chat/completions')).length).toBeGreaterThanOrEqual(3);
  } finally {
    await terminate(experimentId);
  }
});

test('a server that never answers: the request times out and says so (no silent retry)', async () => {
  const hanging = await server(() => 'hang');
  const [taskId] = await firstTasks(1);
  const workflowId = `hang-${Date.now()}`;
  await startEpisode({ client: t.client, queues: t.queues, workflowId, taskId, seed: 1, inference: { temperature: 0.7, maxTokens: 16, timeoutMs: 1500, baseUrl: hanging.url, model: MODEL } });
  try {
    const h = await until('a timed-out attempt', async () => {
      const health = await inferenceHealth(t.client, [workflowId], 60_000);
      return health.last ? health : null;
    });
    expect(h.last!.message).toBe(`inference server ${hanging.url}: no complete response within 1.5 s (inference.timeoutMs 1500)`);
    expect(h.last!.workflowId).toBe(`${workflowId}/b0`);
    expect(renderInferenceHealth(h)).toContain('no complete response within 1.5 s');
  } finally {
    await terminate(workflowId);
  }
});

test('a refused connection and an answer that is not JSON: retried, each failure says which', async () => {
  const notJson = await server(() => ({ status: 200, body: '<html>502 from the proxy</html>' }));
  const refused = `http://127.0.0.1:${await freePort()}/v1`;
  const [taskId] = await firstTasks(1);
  const ids = [`refused-${Date.now()}`, `notjson-${Date.now()}`];
  await Promise.all(
    [refused, notJson.url].map((baseUrl, i) => startEpisode({ client: t.client, queues: t.queues, workflowId: ids[i], taskId, seed: 1, inference: { temperature: 0.7, maxTokens: 16, timeoutMs: 5000, baseUrl, model: MODEL } })),
  );
  try {
    const messages = await Promise.all(
      ids.map((id) => until(`a failed attempt of ${id}`, async () => (await inferenceHealth(t.client, [id], 60_000)).last?.message)),
    );
    expect(messages[0]).toBe(`inference server ${refused}: connection refused (ECONNREFUSED)`);
    expect(messages[1]).toMatch(new RegExp(`^inference server ${notJson.url.replace(/[.]/g, '\\.')} answered something that is not JSON \\(`));
  } finally {
    await Promise.all(ids.map(terminate));
  }
});

/** The CLI against this test's Temporal and workers (the queue prefix of `t.queues`). */
const cliEnv = () => ({ TEMPORAL_ADDRESS: t.address, LEAFE_TASK_QUEUE_PREFIX: t.queues.workflows.replace(/-workflows$/, '') });
const exploreArgs = (baseUrl: string) => ['explore', '--env', 'code', '--tasks', HUMANEVAL_FILE, '--limit', '1', '--base-url', baseUrl, '--model', MODEL, '--run-dir', path.join(dir, 'explore')];

test('leafe explore prints a failing run\'s last failure while it retries', async () => {
  const failing = await server(() => json(503, { error: { message: 'model is loading (simulated)' } }));
  const cli = spawnLeafe([...exploreArgs(failing.url), '--stalled-after', '4s'], cliEnv());
  try {
    await until('the stalled line', async () => cli.stderr().includes('STALLED: inference failing') && cli.stderr(), 90_000).catch((err: Error) => {
      throw new Error(`${err.message}; the CLI printed:\n${cli.stderr()}`);
    });
    const out = cli.stderr();
    expect(out).toContain(`inference failing: 1 of 1 pending request activity retrying`);
    expect(out).toContain(`inference server ${failing.url} answered HTTP 503`);
    expect(out).toContain('model is loading (simulated)');
    expect(out).toContain('next attempt at ');
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
    const runId = /exploring 1 task\(s\) as (\S+)/.exec(cli.stderr())?.[1];
    if (runId) await terminate(`${runId}/${(await firstTasks(1))[0]}`);
  }
});

test('leafe explore against a server rejecting the request: the root cause and exit code 1', async () => {
  const rejecting = await server(() => json(400, { error: { message: "This model's maximum context length is 16 tokens (simulated)" } }));
  const cli = spawnLeafe(exploreArgs(rejecting.url), cliEnv());
  const code = await cli.exited;
  expect(code).toBe(1);
  const out = cli.stderr();
  // Named per episode (explore goes on with the others), then summed up: the root cause, not Temporal's wrapper.
  expect(out).toMatch(/leafe: task HumanEval\/0 \(episode explore-\S+\/HumanEval\/0\): InferenceRequestRejected: /);
  expect(out).toContain(`InferenceRequestRejected: inference server ${rejecting.url} rejected the request for model "m" with HTTP 400`);
  expect(out).toContain('leafe: 1 of 1 episode(s) failed:');
  expect(out).toContain("maximum context length is 16 tokens (simulated)");
  expect(out).toMatch(/\(in child workflow explore-\S+\/b0 > activity takeStep\)/);
  expect(out).not.toContain('leafe: Workflow execution failed');
});

test('leafe status of an experiment failed by a rejected request shows the root cause', async () => {
  const rejecting = await server(() => json(400, { error: { message: 'prompt too long (simulated)' } }));
  const loaded = await loadSpec(baseStudySpecFile(dir, 'rejected', rejecting.url, MODEL), { runDir: t.runDir });
  const { record } = await startStudy(t.client, loaded, t.queues, null, `rejected-${Date.now()}`);
  const snap = await until('the experiment to close', async () => {
    const s = await experimentSnapshot(t.client, record.experiments.base);
    return s.state === 'closed' ? s : null;
  });
  if (snap.state !== 'closed') throw new Error('not closed');
  expect(snap.workflowStatus).toBe('FAILED');
  expect(snap.failure).toContain(`InferenceRequestRejected: inference server ${rejecting.url} rejected the request for model "m" with HTTP 400: prompt too long (simulated)`);
  expect(snap.failure).toContain('> activity takeStep)');
  expect(renderSnapshot(snap)).toContain('prompt too long (simulated)');
});

test('leafe run --wait prints the same failing/stalled line while it waits', async () => {
  const failing = await server(() => json(502, { error: { message: 'upstream connect error (simulated)' } }));
  const specFile = baseStudySpecFile(dir, 'runfailing', failing.url, MODEL);
  const studyId = `runfailing-${Date.now()}`;
  const cli = spawnLeafe(['run', specFile, '--wait', '--id', studyId, '--run-dir', path.join(dir, 'run'), '--stalled-after', '3s'], cliEnv());
  try {
    await until('the stalled line', async () => cli.stderr().includes('STALLED: inference failing'), 90_000).catch((err: Error) => {
      throw new Error(`${err.message}; the CLI printed:\n${cli.stderr()}`);
    });
    expect(cli.stderr()).toContain(`inference server ${failing.url} answered HTTP 502: upstream connect error (simulated)`);
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await terminate(`${studyId}-base`);
  }
});

test('leafe status (following) prints the failing line when it changes, and stalled', async () => {
  const failing = await server(() => json(500, { error: { message: 'worker died (simulated)' } }));
  const specFile = baseStudySpecFile(dir, 'follow', failing.url, MODEL);
  const { record } = await startStudy(t.client, await loadSpec(specFile, { runDir: t.runDir }), t.queues, null, `follow-${Date.now()}`);
  const experimentId = record.experiments.base;
  let printed = '';
  const out = { isTTY: false, write: (s: string) => ((printed += s), true) } as unknown as NodeJS.WriteStream;
  // Looks at inference every 5 s: failing (not yet 8 s) first, then stalled.
  const followed = followExperiment(t.client, experimentId, 200, out, 8000).catch((err: unknown) => err);
  try {
    await until('the stalled line', async () => printed.includes('STALLED: inference failing'), 60_000);
    expect(printed).toContain(`inference server ${failing.url} answered HTTP 500: worker died (simulated)`);
    // Before it was stalled, the same failure was printed without the mark.
    expect(printed).toMatch(/^inference failing: 1 of 1 pending request activity retrying/m);
  } finally {
    await terminate(experimentId);
  }
  expect(((await followed) as { state?: string }).state).toBe('closed');
});
