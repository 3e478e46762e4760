// The train activity with a command trainer that crashes once midway: Temporal retries it and
// the trainer resumes from its newest checkpoint (it says which), then the adapter is deployed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ExperimentSummary } from '../contract/experiment-config';
import { startStudy } from '../cli/study';
import { PROJECT_ROOT } from '../infra/paths';
import { loadSpec } from '../spec/load-spec';
import { DEFAULT_BASE_SKILL } from '../contract/sim-skill';
import { startSimServer, type SimServer } from '../sim/sim-server';
import { simPoliciesFor } from '../sim/sim-policies';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
let sim: SimServer;
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-train-'));

beforeAll(async () => {
  t = await testTemporal('train');
  await t.startWorkers();
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

test('a trainer that crashes at step 5 is retried and resumes from checkpoint-5', async () => {
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(
    specFile,
    JSON.stringify({
      name: 'train-resume',
      methods: ['leafe'],
      iterations: 1,
      seed: 5,
      env: { kind: 'sokoban', count: 8, width: 6, height: 6, boxes: 1, seed: 5 },
      tasks: { train: { offset: 0, limit: 4 }, eval: { offset: 4, limit: 1 } },
      inference: { kind: 'sim' },
      simulator: { skill: { firstTry: 0.7, fixWithFeedback: 0.6, fixWithExperience: 0.9, reflectionAccuracy: 0.9 } },
      leafe: { horizon: 12, budget: 30 },
      trainer: {
        kind: 'command',
        baseModel: 'sim-base',
        cwd: PROJECT_ROOT,
        hyperparameters: { base_skill: JSON.stringify(DEFAULT_BASE_SKILL) },
        command: [
          process.execPath, '--import', 'tsx', 'sim/sim-train-cli.ts',
          '--data', '{{train_file}}', '--output-dir', '{{output_dir}}', '--base-skill', '{{base_skill}}', '--init-adapter={{init_adapter?}}',
          '--epochs', '1', '--steps-per-epoch', '10', '--step-ms', '5', '--save-steps', '1', '--crash-at-step', '5',
          '--resume-from-checkpoint={{resume_from_checkpoint?}}',
        ],
      },
      deploy: { kind: 'sim' },
      evaluation: { samples: 2 },
    }),
  );
  const loaded = await loadSpec(specFile, { runDir: t.runDir });
  sim = await startSimServer({ seed: 5, policies: await simPoliciesFor(loaded.config.env), skill: loaded.simulator.skill });
  const { handles } = await startStudy(t.client, loaded, t.queues, sim.url, `train-${Date.now()}`);
  const handle = handles.get('leafe')!;
  const summary = (await handle.result()) as ExperimentSummary;

  const it0 = summary.iterations[0];
  expect(it0.train?.resumedFrom).toMatch(/checkpoint-5$/);
  const log = readFileSync(path.join(it0.train!.adapterPath, 'trainer.log'), 'utf8');
  expect(log).toContain('resumed from checkpoint-5');
  expect(summary.iterations[1].model).toBe(`${summary.experimentId}-it1`);

  // The first run of the experiment workflow holds the train activity: two attempts.
  const firstRun = t.client.workflow.getHandle(summary.experimentId, (await handle.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined);
  const events = (await firstRun.fetchHistory()).events ?? [];
  const trainScheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainAdapter');
  const started = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === trainScheduled?.eventId?.toString());
  expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);
});
