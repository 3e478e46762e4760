// The first SIGINT stops `leafe explore` for good (issue 25, item 10): the CLI exits (130), its
// episodes are cancelled (none left Running on the server), and the run directory is left as is.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HUMANEVAL_FILE, PROJECT_ROOT } from '../infra/paths';
import { spawnLeafe } from './support/leafe-cli';
import { testTemporal, type TestTemporal } from './support/temporal';

let t: TestTemporal;
beforeAll(async () => {
  t = await testTemporal('cli-interrupt');
});
afterAll(async () => t?.close());

test('SIGINT during leafe explore: exit 130 within seconds, every started episode closed (cancelled or terminated)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-interrupt-'));
  const cli = spawnLeafe(['explore', '--env', 'code', '--tasks', HUMANEVAL_FILE, '--limit', '30', '--concurrency', '2', '--sim', '--workers', 'local', '--run-dir', dir], { TEMPORAL_ADDRESS: t.address });
  const runId = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /exploring 30 task\(s\) as (explore-\S+)/.exec(cli.stderr());
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 100);
    void cli.exited.then(() => reject(new Error(`exited early: ${cli.stderr()}`)));
  });
  await new Promise((r) => setTimeout(r, 1_500)); // episodes in flight
  const sentAt = Date.now();
  cli.child.kill('SIGINT');
  const code = await cli.exited;
  expect(code, cli.stderr()).toBe(130);
  expect(Date.now() - sentAt).toBeLessThan(40_000);
  expect(cli.stderr()).toContain('SIGINT: stopping');
  // No episode of this run is left Running.
  const statuses: string[] = [];
  // Listed through visibility, each status then read from the workflow itself (visibility may lag).
  for await (const wf of t.client.workflow.list({ query: `WorkflowId STARTS_WITH "${runId}"` })) statuses.push((await t.client.workflow.getHandle(wf.workflowId).describe()).status.name);
  expect(statuses.length).toBeGreaterThan(0);
  expect(statuses.filter((s) => s === 'RUNNING')).toEqual([]);
  expect(statuses.length, 'tasks not started after the signal').toBeLessThan(30);
}, 120_000);

test('SIGINT during leafe run: exit 130, and the durable study is left to resume, with the command that resumes it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-interrupt-run-'));
  const spec = path.join(PROJECT_ROOT, 'examples', 'demo.yaml');
  const studyId = `interrupted-${Date.now()}`;
  const cli = spawnLeafe(['run', spec, '--workers', 'local', '--run-dir', dir, '--id', studyId], { TEMPORAL_ADDRESS: t.address });
  for (const end = Date.now() + 90_000; !cli.stderr().includes('started base experiment'); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > end) throw new Error(`not started: ${cli.stderr()}`);
  }
  cli.child.kill('SIGINT');
  expect(await cli.exited, cli.stderr()).toBe(130);
  expect(cli.stderr()).toContain(`resume with: leafe run ${spec} --id ${studyId} --run-dir ${dir}`);
  expect(cli.stderr()).not.toContain('Channel has been shut down');
  const d = await t.client.workflow.getHandle(`${studyId}-base`).describe();
  expect(d.status.name).toBe('RUNNING');
  await t.client.workflow.getHandle(`${studyId}-base`).terminate('test cleanup');
  for (const m of ['leafe', 'rft']) await t.client.workflow.getHandle(`${studyId}-${m}`).terminate('test cleanup').catch(() => undefined);
}, 120_000);
