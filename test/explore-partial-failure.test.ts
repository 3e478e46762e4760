// One broken task between good ones (issue 25, item 6): `leafe explore` prints the trees it
// completed, names the task that failed and why, exits 1, and leaves no episode running.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { HUMANEVAL_FILE } from '../infra/paths';
import { runLeafe } from './support/leafe-cli';

test('a task whose test has a syntax error fails alone: the others are printed, the broken one is named', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-explore-partial-'));
  const rows = gunzipSync(readFileSync(HUMANEVAL_FILE)).toString('utf8').trim().split('\n').slice(0, 3).map((l) => JSON.parse(l) as Record<string, string>);
  rows[1] = { ...rows[1], task_id: 'Broken/1', test: 'def check(candidate):\n    assert candidate(1) ==\n' };
  const tasks = path.join(dir, 'tasks.jsonl');
  writeFileSync(tasks, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = await runLeafe(['explore', '--env', 'code', '--tasks', tasks, '--limit', '3', '--sim', '--budget', '2', '--run-dir', path.join(dir, 'run')], { timeoutMs: 170_000 });
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toMatch(/^solved \d\/2; budget used/m);
  expect(r.stdout).toContain('HumanEval/0');
  expect(r.stdout).toContain('HumanEval/2');
  expect(r.stderr).toContain('1 of 3 episode(s) failed');
  expect(r.stderr).toMatch(/task Broken\/1 \(episode explore-[^)]*\/Broken\/1\): .*code tests for task Broken\/1: harness failed/);
}, 180_000);
