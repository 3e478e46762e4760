// Re-running a study under the same --id (issue 13): with the same spec it resumes (finished
// stages are reused: how a crashed experiment goes on); with a changed spec it used to reuse the
// old spec's stage results too, and is now refused before anything starts, naming the id and
// what differs.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ExperimentSummary } from '../contract/experiment-config';
import { startStudy, waitForStudy } from '../cli/study';
import { specRecordFile } from '../cli/spec-record';
import { loadSpec } from '../spec/load-spec';
import { startSimServer, type SimServer } from '../sim/sim-server';
import { simPoliciesFor } from '../sim/sim-policies';
import { HUMANEVAL } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
const sims: SimServer[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-id-reuse-'));

beforeAll(async () => {
  t = await testTemporal('id-reuse');
  await t.startWorkers();
});
afterAll(async () => {
  for (const sim of sims) await sim.close();
  await t?.close();
});

const spec = (o: { trainLimit: number; budget: number; concurrency: number }) => `
name: id-reuse
methods: [base]
iterations: 1
seed: 3
env: { kind: code, tasks: ${HUMANEVAL} }
tasks:
  train: { offset: 0, limit: ${o.trainLimit} }
  eval: { offset: 10, limit: 2 }
inference: { kind: sim, maxTokens: 256 }
leafe: { horizon: 3, budget: ${o.budget}, maxDepth: 1, maxBranches: 2 }
trainer: { kind: sim, epochs: 1, stepsPerEpoch: 1, stepMs: 1 }
deploy: { kind: sim }
evaluation: { samples: 2, ks: [1, 2] }
concurrency: { episodes: ${o.concurrency} }
`;

async function load(name: string, o: { trainLimit: number; budget: number; concurrency: number }) {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, spec(o));
  const loaded = await loadSpec(file, { runDir: t.runDir });
  // A new simulator (another port) per run, as `leafe run` starts one: the URL is not part of the spec.
  const sim = await startSimServer({ seed: 3, policies: await simPoliciesFor(loaded.config.env) });
  sims.push(sim);
  return { loaded, sim };
}

async function run(name: string, studyId: string, o: { trainLimit: number; budget: number; concurrency: number }): Promise<ExperimentSummary> {
  const { loaded, sim } = await load(name, o);
  const { record, handles } = await startStudy(t.client, loaded, t.queues, sim.url, studyId);
  await waitForStudy(record, handles, false);
  return (await handles.get('base')!.result()) as ExperimentSummary;
}

test('same --id: the same spec resumes (stages reused), a changed spec is refused naming the id and the changed fields', async () => {
  const studyId = `reuse-${Date.now()}`;
  const experimentId = `${studyId}-base`;
  const first = await run('first', studyId, { trainLimit: 4, budget: 6, concurrency: 2 });
  const runsBefore = (await t.client.workflow.getHandle(experimentId).describe()).runId;

  // train.limit and the budget changed: refused, and nothing started.
  const changed = await load('changed', { trainLimit: 6, budget: 12, concurrency: 2 });
  const refused = await startStudy(t.client, changed.loaded, t.queues, changed.sim.url, studyId).then(
    () => null,
    (err: unknown) => err as Error,
  );
  expect(refused, 'a changed spec under a used --id must be refused').toBeInstanceOf(Error);
  process.stderr.write(`study-id-reuse: refused with:\n${refused!.message}\n`);
  expect(refused!.message).toContain(`--id ${studyId}: reused with a different spec`);
  expect(refused!.message).toContain(experimentId);
  expect(refused!.message).toContain('leafe.budget (6 → 12)');
  expect(refused!.message).toContain('tasks.train (4 items → 6 items)');
  expect(refused!.message).toMatch(/new --id/);
  expect((await t.client.workflow.getHandle(experimentId).describe()).runId).toBe(runsBefore);
  // The record still holds the first spec.
  expect(existsSync(specRecordFile(t.runDir, experimentId))).toBe(true);
  expect(readFileSync(specRecordFile(t.runDir, experimentId), 'utf8')).toContain('"budget": 6');

  // The same spec (another simulator port, another concurrency) resumes: every stage is reused.
  const again = await run('again', studyId, { trainLimit: 4, budget: 6, concurrency: 1 });
  expect(again.iterations.map((i) => i.evaluation)).toEqual(first.iterations.map((i) => i.evaluation));
  const history = await t.client.workflow.getHandle(experimentId).fetchHistory();
  const children = (history.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  expect(children, 'the resumed run found the evaluation recorded and started no child').toHaveLength(0);
});
