// The real `leafe` CLI as a subprocess against the test server: it refuses to wait on task queues
// no worker polls, runs its own workers with --workers local, refuses flags that would run
// nothing, keeps the flags it was given, and `leafe server` fails on a taken port.
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runLeafe, type CliResult } from './support/leafe-cli';
import { testTemporal, type TestTemporal } from './support/temporal';

function leafe(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 170_000): Promise<CliResult> {
  return runLeafe(args, { env, timeoutMs });
}

let t: TestTemporal;
let prefix: string;
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-cli-runtime-'));

beforeAll(async () => {
  t = await testTemporal('cli-runtime');
  prefix = t.queues.workflows.replace(/-workflows$/, '');
  // A worker on the workflows queue only: the env queue has nobody.
  await t.startWorkers({ roles: ['workflows'] });
});
afterAll(async () => {
  await t?.close();
});

const EXPLORE = ['explore', '--env', 'sokoban', '--count', '2', '--limit', '1', '--sim', '--json'];

test('explore against a server whose env queue nobody polls fails within seconds, naming the queue and the command to start', async () => {
  const r = await leafe([...EXPLORE, '--run-dir', path.join(dir, 'unserved')], { TEMPORAL_ADDRESS: t.address, LEAFE_TASK_QUEUE_PREFIX: prefix });
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toContain(`no worker polls task queue(s) ${prefix}-env on ${t.address}`);
  expect(r.stderr).not.toContain(`${prefix}-workflows,`);
  expect(r.stderr).toContain(`npm run worker -- --queues env --task-queue-prefix ${prefix}`);
  expect(r.stderr).toContain('--workers local');
  // The check waits 5 s for pollers to appear; the rest is starting node + tsx and connecting.
  expect(r.ms).toBeLessThan(30_000);
});

test('run of a learning study names every queue it needs that nobody polls: env, llm and train', async () => {
  const spec = path.join(dir, 'unserved.yaml');
  writeFileSync(
    spec,
    `name: unserved
methods: [leafe, base]
iterations: 1
env: { kind: sokoban, count: 4 }
tasks: { train: { limit: 2 }, eval: { offset: 2, limit: 2 } }
inference: { kind: sim }
trainer: { kind: sim }
deploy: { kind: sim }
evaluation: { samples: 1 }
`,
  );
  const r = await leafe(['run', spec, '--run-dir', path.join(dir, 'run-unserved')], { TEMPORAL_ADDRESS: t.address, LEAFE_TASK_QUEUE_PREFIX: prefix });
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toContain(`no worker polls task queue(s) ${prefix}-env, ${prefix}-llm, ${prefix}-train on ${t.address}`);
  expect(r.stderr).toContain(`npm run worker -- --queues env,llm,train --task-queue-prefix ${prefix}`);
  expect(r.ms).toBeLessThan(30_000);
});

test('once a worker serves the env queue, explore runs on the external workers', async () => {
  await t.startWorkers({ roles: ['env'] });
  const r = await leafe([...EXPLORE, '--run-dir', path.join(dir, 'served')], { TEMPORAL_ADDRESS: t.address, LEAFE_TASK_QUEUE_PREFIX: prefix });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain(`using external workers on ${t.address} (task queue prefix ${prefix})`);
  expect(JSON.parse(r.stdout)).toHaveLength(1);
});

test('explore --workers local runs its own workers against that server, and keeps --budget/--horizon for sokoban', async () => {
  const r = await leafe([...EXPLORE, '--budget', '12', '--horizon', '4', '--workers', 'local', '--run-dir', path.join(dir, 'local')], { TEMPORAL_ADDRESS: t.address });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('in-process workers serving');
  const trees = JSON.parse(r.stdout) as Array<{ budget: { limit: number }; branches: Array<{ newSteps: number; replayedSteps: number }> }>;
  expect(trees).toHaveLength(1);
  expect(trees[0].budget.limit).toBe(12);
  for (const b of trees[0].branches) expect(b.newSteps + b.replayedSteps).toBeLessThanOrEqual(4);
});

test('flags that would run nothing are refused, naming the flag and value', async () => {
  const cases: Array<[string, string]> = [
    ['--budget', '0'],
    ['--horizon', '0'],
    ['--max-branches', '0'],
    ['--limit', '0'],
    ['--concurrency', '0'],
    ['--count', '0'],
  ];
  const results = await Promise.all(cases.map(([flag, value]) => leafe([...EXPLORE.filter((a, i, all) => a !== flag && all[i - 1] !== flag), flag, value, '--run-dir', path.join(dir, 'flags')], { TEMPORAL_ADDRESS: t.address })));
  results.forEach((r, i) => {
    const [flag, value] = cases[i];
    expect(r.code, `${flag} ${value}: ${r.stderr}`).not.toBe(0);
    expect(r.stderr).toContain(`${flag}: "${value}" is not valid; expected a positive integer`);
  });
});

test('leafe server on a taken port fails with the port, whether a plain program or another Temporal holds it', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const taken = (blocker.address() as net.AddressInfo).port;
  try {
    const temporalPort = t.address.split(':').pop()!;
    const [plain, temporal] = await Promise.all([
      leafe(['server', '--ip', '127.0.0.1', '--port', String(taken), '--run-dir', path.join(dir, 'server-a')], {}, 60_000),
      leafe(['server', '--ip', '127.0.0.1', '--port', temporalPort, '--run-dir', path.join(dir, 'server-b')], {}, 60_000),
    ]);
    for (const [r, port] of [[plain, String(taken)], [temporal, temporalPort]] as const) {
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
      expect(r.stderr).toContain(`--port: port ${port} on 127.0.0.1 is already in use`);
      expect(r.stdout).not.toContain('Press Ctrl-C');
    }
  } finally {
    blocker.close();
  }
});
