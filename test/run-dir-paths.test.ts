// Paths built from ids stay inside the run directory (issue 25, item 2): `--id ../../x` is refused
// at the edge, and the activities that write under the run directory refuse a path that leaves it.
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { expect, test } from 'vitest';
import { createStoreActivities } from '../activities/store/store-activities';
import { PATH_OUTSIDE_RUN_DIR } from '../contract/failure-types';
import { ArtifactStore } from '../infra/artifact-store';
import { insideRunDir, PROJECT_ROOT } from '../infra/paths';
import { runLeafe } from './support/leafe-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-run-dir-paths-'));

test('insideRunDir keeps relative paths inside and names any that leave', () => {
  const runDir = path.join(dir, 'run');
  expect(insideRunDir(runDir, 'experiments/a-leafe/summary.json')).toBe(path.join(runDir, 'experiments', 'a-leafe', 'summary.json'));
  expect(insideRunDir(runDir, 'experiments/x..y/it0')).toBe(path.join(runDir, 'experiments', 'x..y', 'it0'));
  for (const bad of ['../x', 'experiments/../../x', '/etc/passwd', `experiments/${'../'.repeat(5)}tmp`]) {
    expect(() => insideRunDir(runDir, bad), bad).toThrow(/leaves the run directory/);
  }
});

test('writeJsonFile with a path that leaves the run directory fails without retrying and writes nothing', async () => {
  const runDir = path.join(dir, 'store-run');
  const activities = createStoreActivities({ store: ArtifactStore.forRunDir(runDir), runDir });
  const err = await activities.writeJsonFile('experiments/../../escaped/summary.json', { x: 1 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(PATH_OUTSIDE_RUN_DIR);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect(existsSync(path.join(dir, 'escaped'))).toBe(false);
});

test('leafe run --id ../../x is refused before anything starts, naming the flag', async () => {
  const runDir = path.join(dir, 'cli', 'run');
  const r = await runLeafe(['run', path.join(PROJECT_ROOT, 'examples', 'demo.yaml'), '--run-dir', runDir, '--id', '../../escape/x'], { timeoutMs: 60_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('--id: got "../../escape/x"; expected letters, digits');
  expect(existsSync(path.join(dir, 'escape'))).toBe(false);
  expect(existsSync(runDir)).toBe(false);
});
