// Before any work starts, `leafe explore` and `leafe run` check the inference server (GET
// /v1/models lists the model) and fail in seconds naming the URL and the reason. The real CLI is
// spawned against real loopback servers; the checks come before Temporal is even contacted.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../runtime/dev-server';
import { HUMANEVAL_FILE, PROJECT_ROOT } from '../infra/paths';
import { runLeafe } from './support/leafe-cli';
import { baseStudySpecFile, json, modelList, startFakeInference, type FakeInference } from './support/fake-inference';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-preflight-'));
const servers: FakeInference[] = [];
let refusedUrl: string;
let invalidJson: FakeInference;
let hanging: FakeInference;
let rejecting: FakeInference;
let otherModels: FakeInference;

beforeAll(async () => {
  refusedUrl = `http://127.0.0.1:${await freePort()}/v1`;
  invalidJson = await startFakeInference(() => ({ status: 200, body: '{"data": [' }));
  hanging = await startFakeInference(() => 'hang');
  rejecting = await startFakeInference(() => json(400, { error: { message: 'bad gateway config: upstream "foo" unknown' } }));
  otherModels = await startFakeInference(() => modelList('Qwen/Qwen2.5-7B-Instruct', 'smollm2-135m-instruct'));
  servers.push(invalidJson, hanging, rejecting, otherModels);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const leafe = (args: string[]) => runLeafe(args, { timeoutMs: 60_000 });

const explore = (baseUrl: string, model = 'foo') =>
  leafe(['explore', '--env', 'code', '--tasks', HUMANEVAL_FILE, '--limit', '1', '--base-url', baseUrl, '--model', model, '--run-dir', path.join(dir, 'run')]);

describe('leafe explore fails in seconds, naming the URL and the reason', () => {
  test('connection refused', async () => {
    const r = await explore(refusedUrl);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(refusedUrl);
    expect(r.stderr).toContain('connection refused (ECONNREFUSED)');
    expect(r.stderr).toContain('--base-url');
    expect(r.ms).toBeLessThan(30_000); // seconds, not the minutes of retries; loose for a loaded machine
  });

  test('an answer that is not JSON', async () => {
    const r = await explore(invalidJson.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(invalidJson.url);
    expect(r.stderr).toContain('not JSON');
    expect(r.ms).toBeLessThan(30_000); // seconds, not the minutes of retries; loose for a loaded machine
  });

  test('a server that never answers', async () => {
    const r = await explore(hanging.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(hanging.url);
    expect(r.stderr).toContain('did not answer within 10 s');
    expect(r.ms).toBeLessThan(25_000);
  });

  test('an HTTP 400 with a message', async () => {
    const r = await explore(rejecting.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(rejecting.url);
    expect(r.stderr).toContain('HTTP 400');
    expect(r.stderr).toContain('upstream \\"foo\\" unknown');
    expect(r.ms).toBeLessThan(30_000); // seconds, not the minutes of retries; loose for a loaded machine
  });

  test('a server that serves other models', async () => {
    const r = await explore(otherModels.url, 'foo');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--model: inference server');
    expect(r.stderr).toContain('does not serve model "foo"');
    expect(r.stderr).toContain('"Qwen/Qwen2.5-7B-Instruct", "smollm2-135m-instruct"');
    expect(r.ms).toBeLessThan(30_000); // seconds, not the minutes of retries; loose for a loaded machine
  });
});

test('leafe run checks an openai-kind spec the same way before starting anything', async () => {
  const spec = baseStudySpecFile(dir, 'preflight', otherModels.url, 'gpt-nothing');
  const r = await leafe(['run', spec, '--run-dir', path.join(dir, 'run-spec')]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('inference.model: inference server');
  expect(r.stderr).toContain('does not serve model "gpt-nothing"');
  expect(r.stderr).not.toContain('started base experiment');
  expect(r.ms).toBeLessThan(30_000); // seconds, not the minutes of retries; loose for a loaded machine
});

test('leafe run of the real-model study on a machine without `leafe setup real` fails in seconds naming it, and starts nothing', async () => {
  const emptyCache = mkdtempSync(path.join(os.tmpdir(), 'leafe-no-real-'));
  const runDir = path.join(dir, 'run-unprovisioned');
  const r = await runLeafe(['run', path.join(PROJECT_ROOT, 'examples', 'real-smollm2.yaml'), '--run-dir', runDir], { timeoutMs: 60_000, env: { LEAFE_REAL_CACHE: emptyCache } });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/The real-model environment \(cpu\) is not provisioned at .*; run `npx leafe setup real`/);
  // Nothing started: no vLLM, no Temporal server or workflow (neither writes to the run directory yet).
  expect(r.stderr).not.toContain('vLLM');
  expect(r.stderr).not.toContain('started leafe experiment');
  expect(existsSync(runDir)).toBe(false);
  expect(readdirSync(emptyCache)).toEqual([]);
  expect(r.ms).toBeLessThan(30_000); // seconds, not the minutes of retries; loose for a loaded machine
});
