// Provisioning without Go and without a binary must fail with both ways out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../infra/paths';

test('with no Go and no temporal binary, provisioning exits non-zero naming both fixes', () => {
  const binDir = mkdtempSync(path.join(os.tmpdir(), 'leafe-nogo-bin-'));
  symlinkSync(process.execPath, path.join(binDir, 'node')); // node only: no go, no temporal
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'leafe-nogo-cache-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: binDir, LEAFE_CACHE_DIR: cacheDir };
  delete env.LEAFE_TEMPORAL_CLI;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/provision-cli.ts'], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('LEAFE_TEMPORAL_CLI');
  expect(r.stderr).toMatch(/install Go/);
});

test('an explicit binary path that is not a temporal CLI is rejected with the setting named', () => {
  const env = { ...process.env, LEAFE_TEMPORAL_CLI: '/nonexistent/temporal' };
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/provision-cli.ts'], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('LEAFE_TEMPORAL_CLI: "/nonexistent/temporal"');
});
