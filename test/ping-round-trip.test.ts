import { afterAll, beforeAll, expect, test } from 'vitest';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
beforeAll(async () => {
  t = await testTemporal('ping');
  await t.startWorkers();
});
afterAll(async () => t?.close());

test('a workflow calls an activity through the real dev server and returns its result', async () => {
  const workflowId = `ping-${Date.now()}`;
  const result = await t.client.workflow.execute('pingWorkflow', {
    taskQueue: t.queues.workflows,
    workflowId,
    args: [{ message: 'hello', activityQueue: t.queues.llm }],
  });
  expect(result).toMatch(/^pong: hello \(from .+:\d+\)$/);
  const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
  const types = (history.events ?? []).map((e) => e.eventType);
  expect(types.length).toBeGreaterThan(5); // started, activity scheduled/started/completed, completed
});
