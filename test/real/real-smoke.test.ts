// The real model end to end (CI runs this on every submission): SmolLM2-135M-Instruct served by a
// vLLM that leafe starts, one short LEAFE iteration (explore with real requests, distil, TRL LoRA
// for a few steps), the adapter hot-loaded and answering by its name, and Pass@k computed for the
// base model and the adapter.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ExperimentSummary } from '../../contract/experiment-config';
import { ensureLocalVllm } from '../../cli/local-vllm';
import { startStudy, waitForStudy } from '../../cli/study';
import { freePort } from '../../runtime/dev-server';
import { PROJECT_ROOT } from '../../infra/paths';
import type { VllmServer } from '../../runtime/vllm-server';
import { loadSpec } from '../../spec/load-spec';
import { testTemporal, type TestTemporal } from '../support/temporal';

let t: TestTemporal;
let vllm: VllmServer | null = null;
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-real-smoke-'));

beforeAll(async () => {
  t = await testTemporal('real-smoke');
  await t.startWorkers();
});
afterAll(async () => {
  await vllm?.stop();
  await t?.close();
});

async function metricSum(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl.replace(/\/v1$/, '')}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/).pop()), 0);
}

test('SmolLM2 on vLLM: explore, distil, TRL LoRA, hot-load, Pass@k', async () => {
  const port = await freePort();
  const specFile = path.join(dir, 'smoke.yaml');
  writeFileSync(
    specFile,
    `
name: real-smoke
methods: [leafe]
iterations: 1
seed: 1
env: { kind: code, tasks: ${path.join(PROJECT_ROOT, 'examples', 'tasks', 'simple-functions.jsonl')} }
tasks:
  train: { ids: [Simple/square, Simple/add_three] }
  eval: { ids: [Simple/is_even] }
inference: { kind: vllm, model: smollm2-135m-instruct, port: ${port}, temperature: 0.7, maxTokens: 200 }
leafe: { horizon: 2, budget: 3, maxDepth: 1, maxBranches: 2 }
distil: { requireSuccess: false, rehearsalFraction: 1, beta: 1 }
trainer:
  kind: command
  template: ${path.join(PROJECT_ROOT, 'examples', 'trainers', 'trl-sft-cpu.yaml')}
  python: leafe-real
  baseModel: smollm2-135m-instruct
  hyperparameters: { max_steps: 2, save_steps: 1, batch_size: 2, max_length: 512 }
deploy: { kind: vllm-lora }
evaluation: { samples: 2, ks: [1, 2] }
concurrency: { episodes: 2 }
`,
  );
  const loaded = await loadSpec(specFile, { runDir: t.runDir });
  expect(loaded.localVllm?.baseUrl).toBe(`http://127.0.0.1:${port}/v1`);
  vllm = await ensureLocalVllm(loaded.localVllm!, t.runDir, () => undefined);
  expect(vllm).not.toBeNull();
  const baseUrl = vllm!.baseUrl;
  expect(await metricSum(baseUrl, 'vllm:request_success_total')).toBe(0);

  const { record, handles } = await startStudy(t.client, loaded, t.queues, null, `real-smoke-${Date.now()}`);
  await waitForStudy(record, handles, false);
  const result = (await handles.get('leafe')!.result()) as ExperimentSummary;

  // The requests really reached vLLM: it counts them, and the explore stage recorded real token usage.
  const served = await metricSum(baseUrl, 'vllm:request_success_total');
  const [it0, it1] = result.iterations;
  expect(it0.usage.requests).toBeGreaterThan(0);
  expect(it0.usage.completionTokens).toBeGreaterThan(0);
  expect(served).toBeGreaterThanOrEqual(it0.usage.requests);

  // Distil wrote records, TRL trained an adapter, deploy loaded it under a unique name.
  expect(it0.dataset!.records).toBeGreaterThan(0);
  expect(existsSync(path.join(it0.train!.adapterPath, 'adapter_model.safetensors'))).toBe(true);
  const adapterName = it0.deploy!.model;
  expect(adapterName).toBe(`${result.experimentId}-it1`);
  const models = (await (await fetch(`${baseUrl}/models`)).json()) as { data: Array<{ id: string; parent?: string | null }> };
  expect(models.data.find((m) => m.id === adapterName)?.parent).toBe('smollm2-135m-instruct');

  // One request answered by the adapter's name.
  const chat = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: adapterName, messages: [{ role: 'user', content: 'Write square(x) in Python.' }], max_tokens: 32, temperature: 0 }),
  });
  expect(chat.status).toBe(200);
  const body = (await chat.json()) as { model: string; choices: Array<{ message: { content: string } }> };
  expect(body.model).toBe(adapterName);
  expect(body.choices[0].message.content.length).toBeGreaterThan(0);

  // Pass@k for the base model (iteration 0) and the adapter (iteration 1), from real verdicts.
  expect(it0.model).toBe('smollm2-135m-instruct');
  expect(it1.model).toBe(adapterName);
  for (const it of [it0, it1]) {
    expect(Object.keys(it.evaluation.passAtK).sort()).toEqual(['1', '2']);
    expect(it.evaluation.counts).toEqual([{ taskId: 'Simple/is_even', n: 2, c: expect.any(Number) }]);
  }
});
