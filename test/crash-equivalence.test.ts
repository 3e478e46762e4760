// Crash equivalence (issue 5), the test-sized version of `npm run chaos`: a seeded simulator study
// run undisturbed and then with the worker PROCESS SIGKILLed and restarted 5 times and the dev
// server SIGKILLed and restarted on its SQLite file once, at seeded points of the run's progress
// (distinct LLM requests answered, so every kill happens on any machine speed, issue 27), must
// give the same datasets (raw sha256 of every dataset file), the same Pass@k and per-task counts,
// and the simulator must answer nothing beyond the undisturbed run except attempts lost with a
// killed worker.
// It starts its own dev servers (it kills them), see scripts/chaos/crash-equivalence.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, inject, test } from 'vitest';
import { PROJECT_ROOT } from '../infra/paths';
import { loadSpec } from '../spec/load-spec';
import { crashEquivalence } from '../scripts/chaos/crash-equivalence';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-crash-eq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('5 SIGKILLed workers and a SIGKILLed dev server, paced by progress, give the datasets, Pass@k and LLM requests of an undisturbed run', async () => {
  const loaded = await loadSpec(path.join(PROJECT_ROOT, 'scripts', 'chaos', 'chaos-study.yaml'));
  // Smaller than the script's study: two methods, two training tasks, one eval task.
  const config = {
    ...loaded.config,
    trainTasks: loaded.config.trainTasks.slice(0, 2),
    evalTasks: loaded.config.evalTasks.slice(0, 1),
    timeouts: { llmStartToCloseMs: 10_000, sessionScheduleToStartMs: 2_000, stepStartToCloseMs: 10_000 },
  };
  const small = { ...loaded, methods: ['leafe', 'rft'] as typeof loaded.methods, config };
  const lines: string[] = [];
  const { undisturbed, chaos, schedule, comparison } = await crashEquivalence({
    dir,
    loaded: small,
    studyId: 'crash-eq',
    cli: inject('temporalCli'),
    simSeed: 2024,
    simLatencyMs: 20,
    plan: { seed: 7, workerKills: 5, serverKills: 1, serverDowntimeMs: [300, 1_000] },
    log: (l) => lines.push(l),
  });
  process.stderr.write(`${lines.join('\n')}\n${comparison.report}\n`);

  // Every planned kill, at its progress point, below the undisturbed run's total.
  expect(schedule.kills.map((k) => k.kind)).toEqual(['worker', 'worker', 'worker', 'server', 'worker', 'worker']);
  expect(schedule.kills.every((k) => k.atRequests < schedule.totalRequests)).toBe(true);
  expect(chaos.kills.worker).toBe(5);
  expect(chaos.kills.server).toBe(1);
  for (const k of schedule.kills) expect(lines.some((l) => l.includes(`kill ${k.index}/6 (${k.kind} ${k.ofKind}/`))).toBe(true);
  // The kills did hit work in flight: something had to be recovered.
  expect(chaos.histories.workflowTaskTimeouts + chaos.histories.reopens + chaos.histories.lostLlmAttempts).toBeGreaterThan(0);

  expect(undisturbed.datasets.length).toBe(2);
  expect(undisturbed.datasets.every((d) => d.records > 0)).toBe(true);
  expect(chaos.datasets).toEqual(undisturbed.datasets);
  for (const d of undisturbed.datasets) expect(d.files['train.prompt-completion.jsonl']).toBe(d.summarySha256);
  expect(chaos.passAtKTable).toBe(undisturbed.passAtKTable);
  expect(chaos.evaluations).toEqual(undisturbed.evaluations);
  expect(chaos.explore).toEqual(undisturbed.explore);
  expect(comparison.checks.filter((c) => c.startsWith('DIFFERENT'))).toEqual([]);
  expect(comparison.equal).toBe(true);
}, 480_000);
