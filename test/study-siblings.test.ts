// One experiment of a study cancelled (issue 13): `run --wait` used to return at once with the
// cancellation and stop the simulator (and its in-process workers) under the siblings, which
// then retried against a dead simulator. The wait now lasts until every experiment has closed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startStudy, waitForStudy } from '../cli/study';
import { loadSpec } from '../spec/load-spec';
import { startSimServer, type SimServer } from '../sim/sim-server';
import { simPoliciesFor } from '../sim/sim-policies';
import { HUMANEVAL } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
let sim: SimServer | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-siblings-'));

beforeAll(async () => {
  t = await testTemporal('siblings');
  await t.startWorkers();
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

const SPEC = `
name: siblings
methods: [base, rft]
iterations: 1
seed: 3
env: { kind: code, tasks: ${HUMANEVAL} }
tasks:
  train: { offset: 0, limit: 3 }
  eval: { offset: 10, limit: 2 }
inference: { kind: sim, maxTokens: 256 }
leafe: { horizon: 3, budget: 4, maxDepth: 1, maxBranches: 2 }
distil: { requireSuccess: false, rehearsalFraction: 1, beta: 1 }
trainer: { kind: sim, epochs: 1, stepsPerEpoch: 2, stepMs: 1 }
deploy: { kind: sim }
evaluation: { samples: 2, ks: [1, 2] }
concurrency: { episodes: 3 }
simulator: { latencyMs: 100, skill: { firstTry: 0.9, fixWithFeedback: 0.9, fixWithExperience: 0.9 } }
`;

test('cancelling one experiment of a study: the wait goes on until its sibling has finished, then names the cancelled one', async () => {
  const file = path.join(dir, 'siblings.yaml');
  writeFileSync(file, SPEC);
  const loaded = await loadSpec(file, { runDir: t.runDir });
  sim = await startSimServer({ seed: 3, policies: await simPoliciesFor(loaded.config.env), latency: { meanMs: 100, distribution: 'fixed' }, skill: loaded.simulator.skill });
  const { record, handles } = await startStudy(t.client, loaded, t.queues, sim.url, `siblings-${Date.now()}`);
  await handles.get('base')!.cancel();

  const outcome = await waitForStudy(record, handles, false).then(
    () => null,
    (err: unknown) => err as Error,
  );
  // What the sibling was when the wait ended (run --wait stops the simulator right after).
  const rft = await handles.get('rft')!.describe();
  expect(rft.status.name, 'the sibling was still running when the wait ended').toBe('COMPLETED');
  expect(outcome).toBeInstanceOf(Error);
  expect(outcome!.message).toContain(`base experiment ${record.experiments.base} was cancelled`);
  expect(outcome!.message).toContain('1 of 2 experiments finished');
});
