// A worker sends an API key only to the URLs its own LEAFE_INFERENCE_KEYS lists for it, and only
// from LEAFE_KEY_* / OPENAI_API_KEY: a spec (anyone who can start a workflow) cannot make it
// send its environment elsewhere. Loopback servers record the Authorization header they get;
// the workers run in this process, so this process's environment is the workers'.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, WorkflowFailedError } from '@temporalio/client';
import { createDeployActivities } from '../activities/deploy/deploy-activity';
import { loadLoraAdapter } from '../inference/lora-deploy';
import { apiKeyFor, keyPolicyFrom } from '../inference/inference-keys';
import { failureText } from '../cli/failure-cause';
import type { InferenceSettings } from '../core/leafe-settings';
import { loadSpec } from '../spec/load-spec';
import { chatAnswer, modelList, startFakeInference, type FakeInference } from './support/fake-inference';
import { firstTasks, runEpisode } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';
import { INFERENCE_KEY_REFUSED } from '../contract/failure-types';

let t: TestTemporal;
const servers: FakeInference[] = [];
const SECRET = 'sk-secret-value-1234';
const saved = { ...process.env };

beforeAll(async () => {
  t = await testTemporal('inference-keys');
  await t.startWorkers();
});

afterEach(() => {
  for (const k of ['LEAFE_INFERENCE_KEYS', 'MY_SECRET_TOKEN', 'OPENAI_API_KEY', 'LEAFE_KEY_TEST']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await t?.close();
});

async function server(): Promise<FakeInference> {
  const s = await startFakeInference((p) => (p.endsWith('/models') ? modelList('m') : chatAnswer('def f():\n    return 1\n')));
  servers.push(s);
  return s;
}

const inference = (baseUrl: string, apiKeyEnv?: string): InferenceSettings => ({ temperature: 0.7, maxTokens: 16, timeoutMs: 10_000, baseUrl, model: 'm', apiKeyEnv });
const ONE_STEP = { budget: 1, horizon: 1, reflectOnFailure: false, reflectEvery: 0 };

async function episode(s: InferenceSettings, tag: string) {
  const [taskId] = await firstTasks(1);
  return runEpisode({ client: t.client, queues: t.queues, workflowId: `keys-${tag}-${Date.now()}`, taskId, seed: 1, inference: s, leafe: ONE_STEP }).then(
    () => null,
    (err: unknown) => err,
  );
}

const chats = (s: FakeInference) => s.requests.filter((r) => r.path.endsWith('/chat/completions'));

test('a spec naming a variable the worker does not list for its URL: refused, nothing sent, the error names both', async () => {
  const elsewhere = await server();
  const target = await server();
  process.env.MY_SECRET_TOKEN = SECRET;
  process.env.LEAFE_KEY_TEST = SECRET;
  process.env.LEAFE_INFERENCE_KEYS = JSON.stringify({ LEAFE_KEY_TEST: [elsewhere.url] });

  // A variable without the allowed prefix: never sent, whatever the config says.
  const notAllowed = await episode(inference(target.url, 'MY_SECRET_TOKEN'), 'prefix');
  expect(notAllowed).toBeInstanceOf(WorkflowFailedError);
  const app = (((notAllowed as WorkflowFailedError).cause as ChildWorkflowFailure).cause as ActivityFailure).cause as ApplicationFailure;
  expect(app.type).toBe(INFERENCE_KEY_REFUSED);
  expect(app.nonRetryable).toBe(true);
  expect(app.message).toContain(`inference.apiKeyEnv MY_SECRET_TOKEN: refused to send its key to ${target.url}`);
  expect(app.message).toContain('LEAFE_KEY_* or OPENAI_API_KEY');
  expect(failureText(notAllowed)).toContain('InferenceKeyRefused: inference.apiKeyEnv MY_SECRET_TOKEN');

  // An allowed variable, listed for another URL only.
  const unlisted = await episode(inference(target.url, 'LEAFE_KEY_TEST'), 'unlisted');
  const message = failureText(unlisted);
  expect(message).toContain(`inference.apiKeyEnv LEAFE_KEY_TEST: refused to send its key to ${target.url}`);
  expect(message).toContain(`does not list that URL for LEAFE_KEY_TEST (it lists ${elsewhere.url})`);

  expect(chats(target)).toHaveLength(0);
  expect(target.requests.every((r) => !r.authorization?.includes(SECRET))).toBe(true);
});

test('OPENAI_API_KEY is not sent to a URL nobody listed; a listed URL gets its key', async () => {
  const any = await server();
  const listed = await server();
  process.env.OPENAI_API_KEY = SECRET;
  process.env.LEAFE_KEY_TEST = 'sk-listed';
  process.env.LEAFE_INFERENCE_KEYS = JSON.stringify({ LEAFE_KEY_TEST: [listed.url] });

  expect(await episode(inference(any.url), 'any')).toBeNull();
  expect(await episode(inference(listed.url), 'listed')).toBeNull();

  expect(chats(any).length).toBeGreaterThan(0);
  expect(chats(any).every((r) => r.authorization === 'Bearer EMPTY')).toBe(true);
  expect(chats(listed).length).toBeGreaterThan(0);
  expect(chats(listed).every((r) => r.authorization === 'Bearer sk-listed')).toBe(true);
});

test('deploy follows the same rule', async () => {
  const vllm = await server();
  process.env.MY_SECRET_TOKEN = SECRET;
  const deploy = createDeployActivities({ loadAdapter: loadLoraAdapter });
  await expect(deploy.deployAdapter({ deploy: { kind: 'vllm-lora', baseUrl: vllm.url, apiKeyEnv: 'MY_SECRET_TOKEN' }, adapterName: 'a', adapterPath: '/nowhere' })).rejects.toThrow(
    `deploy.apiKeyEnv MY_SECRET_TOKEN: refused to send its key to ${vllm.url}`,
  );
  expect(vllm.requests).toHaveLength(0);
});

test('the policy: listed URLs cover their own path and below on the same origin; bad settings are named', () => {
  const env = { LEAFE_INFERENCE_KEYS: JSON.stringify({ LEAFE_KEY_A: ['https://api.example.com/v1'] }), LEAFE_KEY_A: 'a' };
  expect(apiKeyFor({ baseUrl: 'https://api.example.com/v1' }, env)).toBe('a');
  expect(apiKeyFor({ baseUrl: 'https://api.example.com/v1/' }, env)).toBe('a');
  expect(apiKeyFor({ baseUrl: 'https://api.example.com/v1/deployments/x' }, env)).toBe('a');
  expect(apiKeyFor({ baseUrl: 'https://api.example.com/v10' }, env)).toBeUndefined();
  expect(apiKeyFor({ baseUrl: 'http://api.example.com/v1' }, env)).toBeUndefined();
  expect(apiKeyFor({ baseUrl: 'https://api.example.com.evil.io/v1' }, env)).toBeUndefined();
  expect(() => apiKeyFor({ baseUrl: 'https://api.example.com/v1', apiKeyEnv: 'LEAFE_KEY_A' }, { ...env, LEAFE_KEY_A: '' })).toThrow('LEAFE_KEY_A is not set on this worker');
  expect(() => keyPolicyFrom({ LEAFE_INFERENCE_KEYS: '{"AWS_SECRET_ACCESS_KEY": ["https://x/v1"]}' })).toThrow('LEAFE_INFERENCE_KEYS: variable "AWS_SECRET_ACCESS_KEY" is not allowed');
  expect(() => keyPolicyFrom({ LEAFE_INFERENCE_KEYS: '{"LEAFE_KEY_A": "https://x/v1"}' })).toThrow('LEAFE_KEY_A: got "https://x/v1", not a list of URLs');
  expect(() => keyPolicyFrom({ LEAFE_INFERENCE_KEYS: 'nope' })).toThrow('LEAFE_INFERENCE_KEYS: not valid JSON');
});

test('a spec naming a variable outside LEAFE_KEY_* / OPENAI_API_KEY is rejected when it is loaded', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-keys-spec-'));
  const file = path.join(dir, 'spec.yaml');
  writeFileSync(
    file,
    `name: keys
methods: [base]
env: { kind: sokoban, count: 4 }
tasks: { train: { offset: 0, limit: 2 }, eval: { offset: 2, limit: 2 } }
inference: { kind: openai, baseUrl: "http://127.0.0.1:1/v1", model: m, apiKeyEnv: AWS_SECRET_ACCESS_KEY }
trainer: { kind: sim }
deploy: { kind: vllm-lora, baseUrl: "http://127.0.0.1:1/v1", apiKeyEnv: LEAFE_KEY_DEPLOY }
evaluation: { samples: 1 }
`,
  );
  await expect(loadSpec(file)).rejects.toThrow('inference.apiKeyEnv: got "AWS_SECRET_ACCESS_KEY"; expected a variable named LEAFE_KEY_* or OPENAI_API_KEY');
});
