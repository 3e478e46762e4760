// Spec errors: one clear message naming the path, the value and what was expected; nothing starts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../infra/paths';
import { loadSpec, SpecError } from '../spec/load-spec';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-spec-'));
const GOOD = {
  name: 'x',
  methods: ['leafe'],
  iterations: 1,
  env: { kind: 'sokoban', count: 6 },
  tasks: { train: { offset: 0, limit: 3 }, eval: { offset: 3, limit: 2 } },
  inference: { kind: 'sim' },
  trainer: { kind: 'sim' },
  deploy: { kind: 'sim' },
  evaluation: { samples: 2 },
};

function writeSpec(name: string, spec: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(spec, null, 2));
  return file;
}

async function problemsOf(spec: unknown): Promise<string[]> {
  try {
    await loadSpec(writeSpec(`s-${Math.random().toString(36).slice(2)}.json`, spec));
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).problems;
  }
  throw new Error('expected a SpecError');
}

test('a valid spec loads with explicit task ids and defaults filled in', async () => {
  const loaded = await loadSpec(writeSpec('good.json', GOOD));
  expect(loaded.config.trainTasks).toHaveLength(3);
  expect(loaded.config.evalTasks).toHaveLength(2);
  expect(loaded.config.trainTasks.some((id) => loaded.config.evalTasks.includes(id))).toBe(false);
  expect(loaded.config.evaluation.ks).toEqual([1, 2]);
});

test('a wrong type names the path, the value and the expected type', async () => {
  const problems = await problemsOf({ ...GOOD, iterations: 'two' });
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/^iterations: got "two"; expected number/);
});

test('an unknown method names the value and the allowed methods', async () => {
  const problems = await problemsOf({ ...GOOD, methods: ['leafe', 'ppo'] });
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain('methods.1: got "ppo"');
  expect(problems[0]).toMatch(/leafe.*rft.*base/);
});

test('a missing task file names the field and the path', async () => {
  const problems = await problemsOf({ ...GOOD, env: { kind: 'code', tasks: 'no-such-tasks.jsonl' } });
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/^env\.tasks: "no-such-tasks\.jsonl" does not exist/);
});

test('`leafe run` on a bad spec exits 1 with the message and starts nothing', () => {
  const runDir = path.join(dir, 'run-dir-never-created');
  const file = writeSpec('bad-run.json', { ...GOOD, methods: ['ppo'], runDir });
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/leafe.ts', 'run', file], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, // nothing may be contacted
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('methods.0: got "ppo"');
  expect(r.stderr).not.toMatch(/Temporal|dev server/);
  expect(existsSync(runDir)).toBe(false);
});

test('the committed JSON Schema is the one generated from the zod definition', async () => {
  const { experimentSpecJsonSchema } = await import('../spec/json-schema');
  const { readFileSync } = await import('node:fs');
  const committed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'docs', 'experiment-spec.schema.json'), 'utf8')) as unknown;
  expect(committed, 'regenerate with: node bin/leafe.js schema > docs/experiment-spec.schema.json').toEqual(experimentSpecJsonSchema());
});

test('every example spec under examples/ loads', async () => {
  const { readdirSync } = await import('node:fs');
  const dir = path.join(PROJECT_ROOT, 'examples');
  const specs = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  expect(specs.length).toBeGreaterThanOrEqual(3);
  for (const f of specs) {
    const loaded = await loadSpec(path.join(dir, f));
    expect(loaded.config.trainTasks.length, f).toBeGreaterThan(0);
    expect(loaded.config.evalTasks.length, f).toBeGreaterThan(0);
  }
});

const REAL = {
  ...GOOD,
  inference: { kind: 'vllm', model: 'smollm2-135m-instruct' },
  trainer: { kind: 'command', template: path.join(PROJECT_ROOT, 'examples', 'trainers', 'trl-sft-cpu.yaml'), baseModel: 'smollm2-135m-instruct', python: 'leafe-real' },
  deploy: { kind: 'vllm-lora' },
};

test('inference.kind vllm: an unknown model is named with the models leafe provisions', async () => {
  const problems = await problemsOf({ ...REAL, inference: { kind: 'vllm', model: 'gpt-9' } });
  expect(problems).toEqual(['inference.model: got "gpt-9"; expected a model leafe provisions (smollm2-135m-instruct)']);
});

test('a real-model spec loads on a machine without `leafe setup real`: reading a spec never depends on what is provisioned', async () => {
  const before = process.env.LEAFE_REAL_CACHE;
  const empty = mkdtempSync(path.join(os.tmpdir(), 'leafe-no-real-'));
  process.env.LEAFE_REAL_CACHE = empty;
  try {
    const loaded = await loadSpec(writeSpec('real-unprovisioned.json', REAL));
    expect(loaded.realEnv?.device).toBe('cpu');
    // Where `setup real` would put it; nothing there yet (checked when vLLM or the trainer start).
    expect(loaded.realEnv?.root.startsWith(empty)).toBe(true);
    expect(existsSync(loaded.realEnv!.root)).toBe(false);
    expect(loaded.localVllm?.modelDir).toBe(path.join(loaded.realEnv!.root, 'models', 'smollm2-135m-instruct'));
  } finally {
    if (before === undefined) delete process.env.LEAFE_REAL_CACHE;
    else process.env.LEAFE_REAL_CACHE = before;
  }
});

test('a spec without the real model needs no real-model environment', async () => {
  const loaded = await loadSpec(writeSpec('sim-only.json', GOOD));
  expect(loaded.realEnv).toBeNull();
});

test('every duration and size has a bound: an overflowing timer or size is refused naming the field', async () => {
  const code = { ...GOOD, env: { kind: 'code', tasks: path.join(PROJECT_ROOT, 'examples', 'tasks', 'simple-functions.jsonl'), sandbox: { wallMs: 3_000_000_000 } } };
  expect(await problemsOf(code)).toEqual(['env.sandbox.wallMs: got 3000000000; expected an integer from 1 to 600000 (milliseconds, at most 10 min)']);
  expect(await problemsOf({ ...GOOD, timeouts: { llmHeartbeatMs: 2 ** 31 } })).toEqual(['timeouts.llmHeartbeatMs: got 2147483648; expected an integer from 1 to 2147483647 (milliseconds; 2^31-1 is the longest timer Node keeps)']);
  expect(await problemsOf({ ...GOOD, inference: { kind: 'sim', maxTokens: 1e12 } })).toEqual(['inference.maxTokens: got 1000000000000; expected an integer from 1 to 1048576 (tokens)']);
});

test('deploy vllm-lora needs a baseUrl unless leafe runs the vLLM itself', async () => {
  const problems = await problemsOf({ ...GOOD, inference: { kind: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' }, trainer: { kind: 'command', command: ['true'], baseModel: 'm' }, deploy: { kind: 'vllm-lora' } });
  expect(problems).toEqual(['deploy.baseUrl: got nothing; expected the vLLM server URL (it defaults to the local server only when inference.kind is "vllm")']);
});

test('a provisioned model name as trainer.baseModel needs trainer.python leafe-real', async () => {
  const problems = await problemsOf({ ...GOOD, inference: { kind: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' }, trainer: { kind: 'command', command: ['true'], baseModel: 'smollm2-135m-instruct' }, deploy: { kind: 'vllm-lora', baseUrl: 'http://127.0.0.1:8000/v1' } });
  expect(problems[0]).toMatch(/^trainer\.baseModel: got "smollm2-135m-instruct", a model leafe provisions; expected trainer\.python: leafe-real/);
});
