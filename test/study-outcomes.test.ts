// A study where one experiment fails for real (the simulator never solves, so leafe's dataset is
// empty) and one completes (base): the evaluation shows real progress while it runs, `leafe status`
// of the failed experiment exits non-zero, and `leafe report` of the study reports what completed
// and marks what failed. Real dev server, in-process workers, the simulator over HTTP, the real CLI.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { experimentSnapshot } from '../cli/status-command';
import { startStudy, waitForStudy } from '../cli/study';
import type { StudySummary } from '../report/study-summary';
import { simPoliciesFor } from '../sim/sim-policies';
import { startSimServer, type SimServer } from '../sim/sim-server';
import { loadSpec } from '../spec/load-spec';
import { runLeafe } from './support/leafe-cli';
import { HUMANEVAL_FILE } from '../infra/paths';
import { testTemporal, type TestTemporal } from './support/temporal';

const leafe = (args: string[], env: Record<string, string> = {}) => runLeafe(args, { env, timeoutMs: 120_000 });

// Never right, never fixed: no episode succeeds, so distillation has nothing to learn from.
const SPEC = `
name: outcomes
methods: [leafe, base]
iterations: 1
seed: 5
env: { kind: sokoban, count: 8, width: 6, height: 6, boxes: 1, seed: 5 }
tasks:
  train: { offset: 0, limit: 2 }
  eval: { offset: 4, limit: 2 }
inference: { kind: sim, maxTokens: 64 }
simulator: { skill: { firstTry: 0, fixWithFeedback: 0, fixWithExperience: 0, reflectionAccuracy: 0 } }
leafe: { horizon: 3, budget: 6, maxDepth: 1, maxBranches: 2 }
distil: { requireSuccess: true, rehearsalFraction: 0.5, beta: 1 }
trainer: { kind: sim, epochs: 1, stepsPerEpoch: 2, stepMs: 1 }
deploy: { kind: sim }
evaluation: { samples: 3, ks: [1, 2], horizon: 3 }
concurrency: { episodes: 1 }
`;

let t: TestTemporal;
let sim: SimServer;
let studyId: string;
let experiments: Record<string, string>;
let started: Awaited<ReturnType<typeof startStudy>>;
const progress: Array<{ done: number; total: number }> = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-outcomes-'));

beforeAll(async () => {
  t = await testTemporal('outcomes');
  await t.startWorkers();
  const specFile = path.join(dir, 'outcomes.yaml');
  writeFileSync(specFile, SPEC);
  const loaded = await loadSpec(specFile, { runDir: t.runDir });
  // Slow enough answers that the evaluation (2 tasks × 3 samples, one at a time) is seen mid-way.
  sim = await startSimServer({ seed: 5, policies: await simPoliciesFor(loaded.config.env), skill: loaded.simulator.skill, latency: { meanMs: 150, distribution: 'fixed' } });
  studyId = `outcomes-${Date.now()}`;
  started = await startStudy(t.client, loaded, t.queues, sim.url, studyId);
  experiments = started.record.experiments;

  // Watch the base experiment's evaluation as `leafe status` sees it.
  for (;;) {
    const snap = await experimentSnapshot(t.client, experiments.base);
    if (snap.state === 'closed') break;
    if (snap.status?.stage === 'evaluate') progress.push({ done: snap.status.tasksDone, total: snap.status.tasksTotal });
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const handle of started.handles.values()) await handle.result().catch(() => undefined);
});

afterAll(async () => {
  await sim?.close();
  await t?.close();
});

test('the evaluation progress counts sample episodes done of all of them while it runs', () => {
  expect(progress.length).toBeGreaterThan(2);
  for (const p of progress) expect(p.total).toBe(6);
  const done = progress.map((p) => p.done);
  expect(done).toEqual([...done].sort((a, b) => a - b));
  expect(done.some((d) => d > 0 && d < 6), `seen: ${done.join(',')}`).toBe(true);
});

test('status of the failed experiment says FAILED with the reason and exits 2; of the completed one, exits 0', async () => {
  const failed = await experimentSnapshot(t.client, experiments.leafe);
  expect(failed).toMatchObject({ state: 'closed', workflowStatus: 'FAILED' });
  const args = (id: string) => ['status', id, '--once', '--address', t.address, '--run-dir', t.runDir];
  const [bad, good] = await Promise.all([leafe(args(experiments.leafe)), leafe(args(experiments.base))]);
  expect(bad.code, bad.stderr).toBe(2);
  expect(bad.stdout).toContain('FAILED');
  expect(bad.stdout).toContain('distillation produced no training records');
  expect(good.code, good.stderr).toBe(0);
  expect(good.stdout).toContain('COMPLETED');
});

test('report of the study reports the completed experiment and marks the failed one', async () => {
  const r = await leafe(['report', studyId, '--run-dir', t.runDir], { TEMPORAL_ADDRESS: t.address });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^base\s+0\s/m);
  expect(r.stdout).toContain(`PARTIAL REPORT`);
  expect(r.stdout).toContain(`leafe (${experiments.leafe}): FAILED`);
  const reportDir = path.join(t.runDir, 'reports', studyId);
  const md = readFileSync(path.join(reportDir, 'report.md'), 'utf8');
  expect(md).toContain('## Experiments without a result');
  expect(md).toContain(`| leafe | \`${experiments.leafe}\` | **FAILED** |`);
  expect(md).toMatch(/\| base \| 0 \|/);
  const summary = JSON.parse(readFileSync(path.join(reportDir, 'summary.json'), 'utf8')) as StudySummary;
  expect(Object.keys(summary.methods)).toEqual(['base']);
  expect(summary.incomplete).toEqual([expect.objectContaining({ method: 'leafe', experimentId: experiments.leafe, status: 'FAILED' })]);
});

test('run --wait (waitForStudy) names the failed experiment\'s root cause, not "Activity task failed"', async () => {
  // A trainer that cannot start fails the train ACTIVITY: the workflow's own failure only says "Activity task failed".
  const spec = SPEC.replace('methods: [leafe, base]', 'methods: [rft]')
    .replace(/^simulator: .*$/m, 'simulator: { skill: { firstTry: 1 } }')
    .replace(/^env: .*$/m, `env: { kind: code, tasks: ${JSON.stringify(HUMANEVAL_FILE)} }`)
    .replace(/^trainer: .*$/m, 'trainer: { kind: command, command: ["/no/such/trainer"], baseModel: m }');
  const specFile = path.join(dir, 'no-trainer.yaml');
  writeFileSync(specFile, spec.replace('name: outcomes', 'name: no-trainer'));
  const loaded = await loadSpec(specFile, { runDir: t.runDir });
  const sim2 = await startSimServer({ seed: 5, policies: await simPoliciesFor(loaded.config.env), skill: loaded.simulator.skill });
  try {
    const s2 = await startStudy(t.client, loaded, t.queues, sim2.url, `no-trainer-${Date.now()}`);
    const err = await waitForStudy(s2.record, s2.handles, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`rft experiment ${s2.record.experiments.rft} failed: TrainerConfigError: trainer command[0] = "/no/such/trainer": cannot start it`);
    expect(message).not.toMatch(/failed: (Activity task failed|Child Workflow execution failed)/);
  } finally {
    await sim2.close();
  }
});
