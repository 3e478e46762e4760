// Inference replies that are not completions, and answers that never finish (issue 25, items 8
// and 9): each is a retried, visible inference error naming the URL, never a model failure, and
// inference.timeoutMs bounds the whole request. Real openai client, real HTTP servers on loopback.
import { createServer, type Server } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { INFERENCE_BAD_RESPONSE, INFERENCE_TIMEOUT } from '../contract/failure-types';
import type { InferenceSettings } from '../core/leafe-settings';
import { createInferenceClient } from '../inference/inference-client';
import { listenOnLoopback } from './support/loopback-server';

type Handler = (res: import('node:http').ServerResponse) => void;
const servers: Array<{ close(): Promise<void> }> = [];
const urls: Record<string, string> = {};
const dripTimers: NodeJS.Timeout[] = [];

const completion = (message: unknown) => JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
const HANDLERS: Record<string, Handler> = {
  html: (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Gateway login</body></html>'),
  noChoices: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'c', object: 'chat.completion', choices: [] })),
  nullContent: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(completion({ role: 'assistant', content: null })),
  good: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(completion({ role: 'assistant', content: 'def f(): pass' })),
  // Headers at once, then one byte a second: a body that never completes in time.
  drip: (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const body = completion({ role: 'assistant', content: 'x'.repeat(100) });
    let i = 0;
    const timer = setInterval(() => (i < body.length ? res.write(body[i++]) : (clearInterval(timer), res.end())), 1000);
    dripTimers.push(timer);
    res.on('close', () => clearInterval(timer));
  },
};

beforeAll(async () => {
  for (const [name, handle] of Object.entries(HANDLERS)) {
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => handle(res));
    });
    const s = await listenOnLoopback(server);
    servers.push(s);
    urls[name] = s.url;
  }
});
afterAll(async () => {
  for (const t of dripTimers) clearInterval(t);
  await Promise.all(servers.map((s) => s.close()));
});

const settings = (baseUrl: string, timeoutMs = 10_000): InferenceSettings => ({ baseUrl, model: 'm', temperature: 0, maxTokens: 16, timeoutMs, requestsFrom: 'env-workers' });
const TRAJECTORY = { taskId: 't', instructions: 'write f', initialObservation: 'task', steps: [] };
const ask = (s: InferenceSettings) => createInferenceClient().act(s, TRAJECTORY, null, 1).then(
  (c) => ({ ok: c.content }),
  (e: unknown) => ({ err: e }),
);

test.each([
  ['html', 'no `choices` list'],
  ['noChoices', '`choices: []`'],
  ['nullContent', '`choices[0].message.content` = null'],
])('a 200 that is not a completion (%s) is a retried inference error naming the URL', async (name, what) => {
  const r = await ask(settings(urls[name]));
  expect('err' in r, JSON.stringify(r)).toBe(true);
  const err = (r as { err: unknown }).err;
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(INFERENCE_BAD_RESPONSE);
  expect((err as ApplicationFailure).nonRetryable).toBe(false);
  expect((err as Error).message).toContain(`inference server ${urls[name]} answered HTTP 200 with a body that is not a chat completion (${what})`);
});

test('a good completion still passes', async () => {
  expect(await ask(settings(urls.good))).toEqual({ ok: 'def f(): pass' });
});

test('an answer that drips (headers at once, then a byte a second) is cut at inference.timeoutMs, a retried timeout naming the URL', async () => {
  const started = Date.now();
  const r = await ask(settings(urls.drip, 1_500));
  const err = (r as { err: unknown }).err;
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(INFERENCE_TIMEOUT);
  expect((err as ApplicationFailure).nonRetryable).toBe(false);
  expect((err as Error).message).toContain(`inference server ${urls.drip}: no complete response within 1.5 s`);
  expect(Date.now() - started).toBeLessThan(10_000);
});
