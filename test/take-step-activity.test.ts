// takeStep (one activity per environment step) on its own: a retried attempt must not ask a
// completed request again nor take the step twice, and a session at the wrong step counts as
// lost. Real activity code, real simulator over HTTP, real sandboxed code environment;
// MockActivityEnvironment only supplies the activity context (heartbeat, cancellation).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEnvironmentActivities } from '../activities/environment/environment-activities';
import type { EnvironmentActivities, TakeStepInput } from '../contract/environment-activities';
import { providerFor } from '../envs/registry';
import { createInferenceClient } from '../inference/inference-client';
import { CompletionJournal } from '../activities/inference/completion-journal';
import { DEFAULT_LEAFE_SETTINGS } from '../core/leafe-settings';
import { ArtifactStore } from '../infra/artifact-store';
import type { SimServer } from '../sim/sim-server';
import { CODE_ENV, firstTasks, simInference, startCodeSim } from './support/episode-runner';
import { INFERENCE_REQUEST_REJECTED, SESSION_LOST } from '../contract/failure-types';

let dir: string;
let sim: SimServer;
let acts: EnvironmentActivities;

function run<I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> {
  return new MockActivityEnvironment().run(fn, input);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-take-step-'));
  // firstTry 0: the first answer is wrong, so the step fails and a reflection is due.
  sim = await startCodeSim({ seed: 9, skill: { firstTry: 0 } });
  acts = createEnvironmentActivities({ store: ArtifactStore.forRunDir(dir), sessionQueue: 'test-session', journal: CompletionJournal.forRunDir(dir), providers: providerFor, inference: createInferenceClient() });
});

afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openSession(sessionId: string) {
  const [taskId] = await firstTasks(1);
  return run(acts.openEnvironment, { sessionId, env: CODE_ENV, taskId, seed: 1, replay: [] });
}

function firstStep(sessionId: string, trajectoryRef: string | null): TakeStepInput {
  const leafe = { ...DEFAULT_LEAFE_SETTINGS, reflectOnFailure: true };
  return {
    sessionId,
    t: 1,
    inference: simInference(sim.url),
    trajectoryRef,
    experience: null,
    actSeed: 101,
    reflectSeed: 202,
    decision: { leafe, newSteps: 1, canRequestBranches: true, requestsMade: 0, maxRequests: 4, allowance: 5 },
    lastStep: false,
  };
}

test('a retried takeStep returns the same step and reflection without asking the model or stepping again', async () => {
  const opened = await openSession('s-retry');
  sim.resetStats();
  const input = firstStep('s-retry', opened.trajectoryRef);
  const first = await run(acts.takeStep, input);
  expect(first.outcome.success).toBe(false);
  expect(first.reflection, 'a failed step with reflectOnFailure reflects in the same activity').not.toBeNull();
  expect(first.reusedCompletions).toBe(0);
  expect(first.closed).toBe(first.reflection!.parsed.valid); // a valid failure reflection ends the branch
  const asked = sim.stats().totalRequests;
  expect(asked).toBe(2);

  // The same attempt again, as after a lost completion or a heartbeat timeout.
  // If the first attempt closed the session (the branch ends with it), the workflow re-opens it by
  // replaying the steps it has recorded, which do not include this one yet.
  if (first.closed) await openSession('s-retry');
  const again = await run(acts.takeStep, input);
  expect(again.reusedCompletions).toBe(2);
  expect(sim.stats().totalRequests).toBe(asked);
  expect(again.action).toEqual(first.action);
  expect(again.outcome).toEqual(first.outcome);
  expect(again.reflection).toEqual(first.reflection);
  // Both completions are in the journal, one file each.
  const files = readdirSync(path.join(dir, 'completions'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
  expect(files).toHaveLength(2);
});

test('a session that is not at step t − 1 (or t, for a retry) is reported lost before the model is asked', async () => {
  const opened = await openSession('s-skew');
  sim.resetStats();
  const input = { ...firstStep('s-skew', opened.trajectoryRef), t: 3 };
  const err = await run(acts.takeStep, input).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(SESSION_LOST);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as ApplicationFailure).message).toContain('has taken 0 steps; step 3');

  const missing = await run(acts.takeStep, { ...input, sessionId: 'never-opened', t: 1 }).then(
    () => null,
    (e: unknown) => e,
  );
  expect((missing as ApplicationFailure).type).toBe(SESSION_LOST);
  expect(sim.stats().totalRequests).toBe(0);
});

test('an opening takeStep resets + replays, takes the step, and closes what it opened when the attempt fails', async () => {
  const [taskId] = await firstTasks(1);
  const before = await run(acts.openSessionCount, undefined);
  const opening = { ...firstStep('s-open', null), open: { env: CODE_ENV, taskId, seed: 1, replay: [] } };
  const taken = await run(acts.takeStep, opening);
  expect(taken.opened?.sessionQueue).toBe('test-session');
  expect(taken.opened?.replayed).toEqual([]);
  expect(taken.outcome.trajectoryRef).not.toBe(taken.opened?.trajectoryRef);
  if (!taken.closed) await run(acts.closeEnvironment, { sessionId: 's-open' });

  // The model rejects the request (unknown model, HTTP 404) after the session was opened: the
  // attempt fails and leaves no session behind (a retry could run on another worker).
  const rejected = { ...opening, sessionId: 's-open-fails', inference: simInference(sim.url, 'no-such-model') };
  const err = await run(acts.takeStep, rejected).then(
    () => null,
    (e: unknown) => e,
  );
  expect((err as ApplicationFailure).type).toBe(INFERENCE_REQUEST_REJECTED);
  expect(await run(acts.openSessionCount, undefined)).toBe(before);

  // A replay that does not end right before step t is refused.
  const skewed = await run(acts.takeStep, { ...opening, sessionId: 's-open-skew', t: 3 }).then(
    () => null,
    (e: unknown) => e,
  );
  expect((skewed as ApplicationFailure).message).toContain('step 3 cannot follow a replay of 0 actions');
});
