// Inference faults through the real openai client: transient 500/429 are retried by Temporal and
// change nothing in the tree; a rejected request (4xx other than 408/409/429) fails at once.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, WorkflowFailedError } from '@temporalio/client';
import type { LeafeSettings } from '../core/leafe-settings';
import type { EpisodeTree } from '../core/tree';
import type { SimServer } from '../sim/sim-server';
import { comparableTree, firstTasks, runEpisode, scheduledActivities, simInference, startCodeSim } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';
import { INFERENCE_REQUEST_REJECTED } from '../contract/failure-types';

let t: TestTemporal;
let clean: SimServer;
let faulty: SimServer;
let rejecting: SimServer;

beforeAll(async () => {
  t = await testTemporal('inference-faults');
  await t.startWorkers();
  // Same seed: the same requests get the same answers; only the faults differ.
  clean = await startCodeSim({ seed: 3 });
  faulty = await startCodeSim({ seed: 3, faults: { http500: 0.25, http429: 0.2 } });
  rejecting = await startCodeSim({ seed: 3 });
});

afterAll(async () => {
  await Promise.all([clean, faulty, rejecting].map((s) => s?.close()));
  await t?.close();
});

const LEAFE: Partial<LeafeSettings> = { budget: 5, horizon: 4, reflectEvery: 2, stopAtFirstSuccess: false };

test('45% of attempts answered 500 or 429: the episodes complete with the fault-free trees', async () => {
  const tasks = await firstTasks(2);
  const run = (sim: SimServer, taskId: string, tag: string) =>
    runEpisode({ client: t.client, queues: t.queues, workflowId: `faults-${tag}-${taskId}-${Date.now()}`, taskId, seed: 17, inference: simInference(sim.url), leafe: LEAFE });
  const [reference, faulted] = await Promise.all([
    Promise.all(tasks.map((id) => run(clean, id, 'clean'))),
    Promise.all(tasks.map((id) => run(faulty, id, 'faulty'))),
  ]);

  const stats = faulty.stats();
  expect(stats.statusCounts['500'] ?? 0).toBeGreaterThan(0);
  expect(stats.statusCounts['429'] ?? 0).toBeGreaterThan(0);
  expect(stats.repeatedCompleted).toBe(0);
  expect(clean.stats().statusCounts).toEqual({ '200': clean.stats().totalRequests });
  // Every completed request is one the tree used, and no more.
  const requests = faulted.reduce((n, tree) => n + tree.usage.requests, 0);
  expect(stats.statusCounts['200']).toBe(requests);
  expect(stats.totalRequests).toBe(requests + stats.statusCounts['500'] + stats.statusCounts['429']);

  faulted.forEach((tree: EpisodeTree, i) => expect(comparableTree(tree)).toEqual(comparableTree(reference[i])));

  // The retries are Temporal's (the client's own are off): some activity needed more than one attempt.
  let maxAttempt = 0;
  for (const tree of faulted) {
    for (const b of tree.branches) {
      const history = await t.client.workflow.getHandle(b.workflowId).fetchHistory();
      for (const e of history.events ?? []) maxAttempt = Math.max(maxAttempt, e.activityTaskStartedEventAttributes?.attempt ?? 0);
    }
  }
  expect(maxAttempt).toBeGreaterThanOrEqual(2);
});

test('an unknown model (HTTP 404) fails the step activity and the episode at once, naming the status', async () => {
  const [taskId] = await firstTasks(1);
  const workflowId = `faults-404-${Date.now()}`;
  const started = Date.now();
  const err = await runEpisode({ client: t.client, queues: t.queues, workflowId, taskId, seed: 17, inference: simInference(rejecting.url, 'no-such-model'), leafe: LEAFE }).then(
    () => null,
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;

  expect(err).toBeInstanceOf(WorkflowFailedError);
  const child = (err as WorkflowFailedError).cause;
  expect(child).toBeInstanceOf(ChildWorkflowFailure);
  const activity = (child as ChildWorkflowFailure).cause;
  expect(activity).toBeInstanceOf(ActivityFailure);
  expect((activity as ActivityFailure).activityType).toBe('takeStep');
  const app = (activity as ActivityFailure).cause;
  expect(app).toBeInstanceOf(ApplicationFailure);
  expect((app as ApplicationFailure).type).toBe(INFERENCE_REQUEST_REJECTED);
  expect((app as ApplicationFailure).nonRetryable).toBe(true);
  expect((app as ApplicationFailure).message).toContain('HTTP 404');
  expect((app as ApplicationFailure).message).toContain('"no-such-model"');

  // Exactly one request reached the server: no retry by the client nor by Temporal.
  expect(rejecting.stats().totalRequests).toBe(1);
  expect(rejecting.stats().statusCounts).toEqual({ '404': 1 });
  const history = await t.client.workflow.getHandle(`${workflowId}/b0`).fetchHistory();
  expect(scheduledActivities(history).filter((a) => a.type === 'takeStep')).toHaveLength(1);
  const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt).filter((a) => a !== undefined);
  expect(attempts.every((a) => a === 1)).toBe(true);
  expect(elapsed).toBeLessThan(15_000); // the first retry alone would wait 1 s, unlimited ones forever
});
