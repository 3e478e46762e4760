// No workflow task can fail forever (issue 13): a plain error in workflow code used to fail the
// workflow *task*, which Temporal retries without end (the run hangs, silently). Bad input to
// evaluateWorkflow is refused up front with a non-retryable ApplicationFailure naming the field,
// and any other plain error fails the workflow execution (workflows/fail-on-error.ts).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import * as workflows from '../workflows';
import type { EvaluateInput } from '../contract/evaluate-input';
import { CODE_ENV, simInference } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';
import { INVALID_EVALUATE_INPUT } from '../contract/failure-types';

let t: TestTemporal;

beforeAll(async () => {
  t = await testTemporal('workflow-failures');
  await t.startWorkers({ roles: ['workflows'] });
});
afterAll(async () => {
  await t?.close();
});

/** Runs a workflow and returns its failure; fails the test if it has not failed within `ms`. */
async function failureOf(type: string, args: unknown[], ms = 15_000): Promise<ApplicationFailure> {
  const h = await t.client.workflow.start(type, { taskQueue: t.queues.workflows, workflowId: `${type}-bad-${Date.now()}`, args });
  const started = Date.now();
  const outcome = await Promise.race([
    h.result().then(
      () => 'completed' as const,
      (err: unknown) => err,
    ),
    new Promise<'hanging'>((resolve) => setTimeout(() => resolve('hanging'), ms)),
  ]);
  if (outcome === 'hanging') {
    await h.terminate('test: still running');
    throw new Error(`${type} did not fail within ${ms} ms (a workflow task failing and retrying forever?)`);
  }
  expect(outcome, `${type} should fail`).toBeInstanceOf(WorkflowFailedError);
  const cause = (outcome as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  process.stderr.write(`workflow-failures: ${type} failed after ${Date.now() - started} ms: ${(cause as ApplicationFailure).message}\n`);
  return cause as ApplicationFailure;
}

function evaluateInput(overrides: Partial<EvaluateInput>): EvaluateInput {
  return {
    iteration: 0,
    taskIds: ['HumanEval/0'],
    samples: 2,
    ks: [1, 2],
    horizon: 3,
    env: CODE_ENV,
    inference: simInference('http://127.0.0.1:9/v1'),
    seed: 1,
    queues: t.queues,
    concurrency: 2,
    ...overrides,
  };
}

test('evaluateWorkflow with no tasks (meanPassAtK would throw RangeError) fails at once, naming taskIds', async () => {
  const f = await failureOf('evaluateWorkflow', [evaluateInput({ taskIds: [] })]);
  expect(f.type).toBe(INVALID_EVALUATE_INPUT);
  expect(f.nonRetryable).toBe(true);
  expect(f.message).toBe('evaluateWorkflow: taskIds = [], expected a non-empty list of task ids');
});

test('evaluateWorkflow with bad samples, ks, horizon or concurrency fails before any episode, naming the field and value', async () => {
  const cases: Array<[Partial<EvaluateInput>, string]> = [
    [{ samples: 0 }, 'samples = 0, expected an integer >= 1'],
    [{ ks: [1.5] }, 'ks = [1.5], expected a list of integers >= 1'],
    [{ ks: [4, 8] }, 'ks = [4,8], expected at least one k <= samples (2)'],
    [{ horizon: 0 }, 'horizon = 0, expected an integer >= 1'],
    [{ concurrency: 0 }, 'concurrency = 0, expected an integer >= 1'],
  ];
  for (const [overrides, message] of cases) {
    const f = await failureOf('evaluateWorkflow', [evaluateInput(overrides)]);
    expect(f.type).toBe(INVALID_EVALUATE_INPUT);
    expect(f.message).toBe(`evaluateWorkflow: ${message}`);
  }
});

test('any other plain error in workflow code fails the workflow, not its task: an episode without leafe settings', async () => {
  const input = { taskId: 'HumanEval/0', env: CODE_ENV, seed: 1, inference: simInference('http://127.0.0.1:9/v1'), queues: t.queues };
  const f = await failureOf('episodeWorkflow', [input]);
  expect(f.type).toBe('TypeError');
  expect(f.message).toMatch(/maxBranches/);
});

test('every registered workflow fails its execution on a plain error', () => {
  for (const [name, fn] of Object.entries(workflows)) {
    const options = (fn as { workflowDefinitionOptions?: { failureExceptionTypes?: unknown[] } }).workflowDefinitionOptions;
    expect(options?.failureExceptionTypes, name).toContain(Error);
  }
});
