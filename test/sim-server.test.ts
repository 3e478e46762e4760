import { HUMANEVAL_FILE } from '../infra/paths';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAgentMessages, renderReflectionMessages, type AgentContext, type ChatMessage } from '../core/prompts';
import { loadCodeTasks, type CodeTask } from '../envs/code/code-tasks';
import { createCodePolicy } from '../sim/policies/code-policy';
import type { SimSkill } from '../contract/sim-skill';
import { startSimServer, type SimServer, type SimServerOptions } from '../sim/sim-server';
import { ADAPTER_FILE } from '../sim/sim-trainer';

const HUMANEVAL = HUMANEVAL_FILE;
const REFLECTION_FORMAT = {
  type: 'json_schema' as const,
  json_schema: { name: 'reflection', schema: { type: 'object', properties: { step: { type: 'integer' }, experience: { type: 'string' } } } },
};

let tasks: CodeTask[];
const servers: SimServer[] = [];

beforeAll(async () => {
  tasks = (await loadCodeTasks(HUMANEVAL)).slice(0, 50);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(options: Partial<SimServerOptions> = {}): Promise<SimServer> {
  const server = await startSimServer({ seed: 7, policies: [createCodePolicy(tasks)], ...options });
  servers.push(server);
  return server;
}

function client(server: SimServer, timeout = 10_000): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'sim', maxRetries: 0, timeout });
}

function context(task: CodeTask, attempts: string[] = [], experience?: string): AgentContext {
  return {
    taskId: task.id,
    instructions: 'Write a complete Python program.',
    initialObservation: task.statement,
    steps: attempts.map((a) => ({ action: a, observation: '', feedback: 'Failed: assert candidate([1, 2]) == 3' })),
    experience,
  };
}

async function ask(c: OpenAI, messages: ChatMessage[], seed: number, model = 'sim-base'): Promise<string> {
  const r = await c.chat.completions.create({ model, messages, seed, temperature: 1, max_tokens: 2048 });
  return r.choices[0].message.content ?? '';
}

const program = (content: string) => /```python\n([\s\S]*?)\n```/.exec(content)?.[1];
const reference = (task: CodeTask) => task.reference!.replace(/\n+$/, '');

async function statusOf(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIConnectionTimeoutError) return 'timeout';
    if (err instanceof OpenAI.APIError && err.status !== undefined) return err.status;
    throw err;
  }
}

describe('sim server: chat completions', () => {
  it('answers with the OpenAI shape, deterministically per request, varying with seeds', async () => {
    const server = await start();
    const c = client(server);
    const messages = renderAgentMessages(context(tasks[0]));
    const r = await c.chat.completions.create({ model: 'sim-base', messages, seed: 1, temperature: 1 });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant' } });
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(program(r.choices[0].message.content!)).toBeTruthy();

    // Same request → same answer, whatever else was asked in between.
    const again = await ask(c, messages, 1);
    await ask(c, renderAgentMessages(context(tasks[1])), 1);
    expect(await ask(c, messages, 1)).toBe(again);
    expect(again).toBe(r.choices[0].message.content);

    // Different request seeds and different server seeds give different answers.
    const bySeed = new Set(await Promise.all(Array.from({ length: 12 }, (_, s) => ask(c, messages, s))));
    expect(bySeed.size).toBeGreaterThan(1);
    const other = client(await start({ seed: 8 }));
    const a = await Promise.all(tasks.slice(0, 10).map((t) => ask(c, renderAgentMessages(context(t)), 3)));
    const b = await Promise.all(tasks.slice(0, 10).map((t) => ask(other, renderAgentMessages(context(t)), 3)));
    expect(a).not.toEqual(b);
  });

  it('answers reflection requests with valid JSON naming a step in range', async () => {
    const server = await start({ skill: { reflectionAccuracy: 1 } });
    const c = client(server);
    const ctx = context(tasks[2], ['def f():\n    return 1', 'def f():\n    return 2']);
    for (let seed = 0; seed < 5; seed++) {
      const r = await c.chat.completions.create({ model: 'sim-base', messages: renderReflectionMessages(ctx), seed, response_format: REFLECTION_FORMAT });
      const parsed = JSON.parse(r.choices[0].message.content!) as { step: number; experience: string };
      // Accurate reflection on code names the latest attempt and quotes its failing check.
      expect(parsed.step).toBe(2);
      expect(parsed.experience).toContain('assert candidate([1, 2]) == 3');
    }
    const sloppy = client(await start({ skill: { reflectionAccuracy: 0 }, malformedReflectionRate: 1 }));
    let malformed = 0;
    for (let seed = 0; seed < 10; seed++) {
      const text = (await sloppy.chat.completions.create({ model: 'sim-base', messages: renderReflectionMessages(ctx), seed, response_format: REFLECTION_FORMAT })).choices[0].message.content!;
      let ok: boolean;
      try {
        const j = JSON.parse(text) as { step: number };
        ok = j.step >= 1 && j.step <= 2;
      } catch {
        ok = false;
      }
      if (!ok) malformed++;
    }
    expect(malformed).toBe(10);
  });

  it('rejects bad requests like the real servers: 404 unknown model, 400 bad body or unknown task', async () => {
    const server = await start();
    const c = client(server);
    const messages = renderAgentMessages(context(tasks[0]));
    const err = await c.chat.completions.create({ model: 'gpt-nope', messages, seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain('gpt-nope');

    const raw = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { message: string } }).error.message).toMatch(/JSON/);

    const unknown = await c.chat.completions.create({ model: 'sim-base', messages: [{ role: 'user', content: 'Task id: nope/1' }], seed: 1 }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknown as Error).message).toMatch(/no simulator policy/);
    expect(server.stats()).toMatchObject({ totalRequests: 3, statusCounts: { '400': 2, '404': 1 }, repeatedCompleted: 0 });
  });
});

describe('sim server: faults, stats, capacity', () => {
  it('injects 500 and 429 at the configured rates, and a retry of the same request can succeed', async () => {
    const server = await start({ faults: { http500: 0.2, http429: 0.1 } });
    const c = client(server);
    const statuses = await Promise.all(
      Array.from({ length: 300 }, (_, i) => statusOf(ask(c, renderAgentMessages(context(tasks[i % tasks.length])), 1000 + i))),
    );
    const rate = (s: number) => statuses.filter((x) => x === s).length / statuses.length;
    expect(rate(500)).toBeGreaterThan(0.12);
    expect(rate(500)).toBeLessThan(0.28);
    expect(rate(429)).toBeGreaterThan(0.04);
    expect(rate(429)).toBeLessThan(0.17);
    expect(server.stats().statusCounts['500']).toBe(statuses.filter((x) => x === 500).length);

    // Retry each faulted request: each attempt is a fresh draw, so all get through eventually.
    const faulted = statuses.map((s, i) => (s === 200 ? -1 : i)).filter((i) => i >= 0);
    for (const i of faulted) {
      let s: number | string = 0;
      for (let attempt = 0; attempt < 20 && s !== 200; attempt++) s = await statusOf(ask(c, renderAgentMessages(context(tasks[i % tasks.length])), 1000 + i));
      expect(s).toBe(200);
    }
    expect(server.stats().repeatedCompleted).toBe(0);
  });

  it('hangs until the client gives up, and a retry can get through', async () => {
    const server = await start({ faults: { hang: 0.5, hangMs: 60_000 } });
    const c = client(server, 300);
    const results: Array<number | string> = [];
    for (let i = 0; i < 16; i++) results.push(await statusOf(ask(c, renderAgentMessages(context(tasks[i])), i)));
    expect(results.filter((r) => r === 'timeout').length).toBeGreaterThan(2);
    expect(results.filter((r) => r === 200).length).toBeGreaterThan(2);
    const hung = results.indexOf('timeout');
    let s: number | string = 'timeout';
    for (let attempt = 0; attempt < 20 && s !== 200; attempt++) s = await statusOf(ask(c, renderAgentMessages(context(tasks[hung])), hung));
    expect(s).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    // Every hang the client abandoned shows up as 499 (client closed request).
    const timeouts = results.filter((r) => r === 'timeout').length;
    expect(server.stats().statusCounts['499']).toBeGreaterThanOrEqual(timeouts);
  });

  it('counts repeated completions per request key', async () => {
    const server = await start();
    const c = client(server);
    const a = renderAgentMessages(context(tasks[0]));
    const b = renderAgentMessages(context(tasks[1]));
    await ask(c, a, 1);
    await ask(c, b, 1);
    await ask(c, a, 2); // another seed is another request
    expect(server.stats().repeatedCompleted).toBe(0);
    await ask(c, a, 1);
    await ask(c, a, 1);
    const stats = server.stats();
    expect(stats.repeatedCompleted).toBe(1);
    expect(stats.totalRequests).toBe(5);
    expect(Object.values(stats.perKey).sort()).toEqual([1, 1, 3]);
    server.resetStats();
    expect(server.stats()).toMatchObject({ totalRequests: 0, repeatedCompleted: 0 });
  });

  it('beforeAnswer sees the distinct requests answered so far and holds an answer until it settles; a client gone meanwhile gets no 200', async () => {
    const seen: number[] = [];
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    // Holds every answer once 2 distinct requests are answered (as a chaos harness does at a kill point).
    const server = await start({
      beforeAnswer: (answered) => {
        seen.push(answered);
        return answered >= 2 ? held : undefined;
      },
    });
    const a = renderAgentMessages(context(tasks[0]));
    const b = renderAgentMessages(context(tasks[1]));
    await ask(client(server), a, 1);
    await ask(client(server), a, 1); // asked again: not one more distinct request
    await ask(client(server), b, 1);
    expect(seen).toEqual([0, 1, 1]);
    // Held: one client gives up while it waits, the other is answered on release.
    const gaveUp = statusOf(ask(client(server, 200), a, 2));
    const waited = statusOf(ask(client(server), a, 3));
    expect(await gaveUp).toBe('timeout');
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await waited).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const stats = server.stats();
    expect(stats.statusCounts).toEqual({ '200': 4, '499': 1 });
    expect(Object.keys(stats.completedPerKey).length).toBe(3);
  });

  it('bounds concurrency with capacity; busyFraction is ≈1 when saturated and lower when idle', async () => {
    const server = await start({ capacity: 2, latency: { meanMs: 100, distribution: 'fixed' } });
    const c = client(server);
    server.resetStats();
    const t0 = performance.now();
    await Promise.all(tasks.slice(0, 10).map((t) => ask(c, renderAgentMessages(context(t)), 1)));
    const elapsed = performance.now() - t0;
    const busy = server.stats();
    expect(busy.maxConcurrent).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(480);
    expect(busy.busyFraction!).toBeGreaterThan(0.85);

    server.resetStats();
    await new Promise((r) => setTimeout(r, 300));
    await ask(c, renderAgentMessages(context(tasks[0])), 2);
    const idle = server.stats().busyFraction!;
    expect(idle).toBeGreaterThan(0.05);
    expect(idle).toBeLessThan(0.3);
  });

  it('draws lognormal latency around the configured mean', async () => {
    const server = await start({ latency: { meanMs: 40, distribution: 'lognormal' } });
    const c = client(server);
    await ask(c, renderAgentMessages(context(tasks[0])), 99); // warm up the connection
    const times: number[] = [];
    for (const t of tasks.slice(0, 30)) {
      const t0 = performance.now();
      await ask(c, renderAgentMessages(context(t)), 5);
      times.push(performance.now() - t0);
    }
    const mean = times.reduce((x, y) => x + y, 0) / times.length;
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(75);
    expect(Math.max(...times)).toBeGreaterThan(1.5 * Math.min(...times));
  });
});

describe('sim server: LoRA adapters (vLLM runtime loading)', () => {
  function adapterDir(skill: SimSkill): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sim-adapter-'));
    writeFileSync(path.join(dir, ADAPTER_FILE), JSON.stringify({ format: 'leafe-sim-adapter/1', skill }));
    return dir;
  }
  const post = (server: SimServer, route: string, body: unknown) =>
    fetch(`${server.url}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('loads an adapter, lists it with its parent, serves it, refuses a duplicate name, unloads it', async () => {
    const server = await start({ skill: { firstTry: 0 } });
    const c = client(server);
    const dir = adapterDir({ firstTry: 1, fixWithFeedback: 1, fixWithExperience: 1, reflectionAccuracy: 1 });

    const loaded = await post(server, 'load_lora_adapter', { lora_name: 'iter-1', lora_path: dir });
    expect(loaded.status).toBe(200);
    expect(await loaded.text()).toBe("Success: LoRA adapter 'iter-1' added successfully.");

    const models = await c.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toEqual(['sim-base', 'iter-1']);
    expect(models.data[1]).toMatchObject({ object: 'model', parent: 'sim-base', root: dir });

    // The adapter's skill is used: always right first time, where the base never is.
    const task = tasks[3];
    expect(program(await ask(c, renderAgentMessages(context(task)), 1, 'iter-1'))).toBe(reference(task));
    expect(program(await ask(c, renderAgentMessages(context(task)), 1, 'sim-base'))).not.toBe(reference(task));

    const again = await post(server, 'load_lora_adapter', { lora_name: 'iter-1', lora_path: dir });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({
      error: {
        message: "The lora adapter 'iter-1' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True.",
        type: 'InvalidUserInput',
        param: null,
        code: 400,
      },
    });

    const missing = await post(server, 'load_lora_adapter', { lora_name: 'iter-2', lora_path: path.join(dir, 'nope') });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('NotFoundError');
    expect((await post(server, 'load_lora_adapter', { lora_name: 'x' })).status).toBe(400);

    const unloaded = await post(server, 'unload_lora_adapter', { lora_name: 'iter-1' });
    expect(unloaded.status).toBe(200);
    expect(await unloaded.text()).toBe("Success: LoRA adapter 'iter-1' removed successfully.");
    expect((await post(server, 'unload_lora_adapter', { lora_name: 'iter-1' })).status).toBe(404);
    expect((await c.models.list()).data.map((m) => m.id)).toEqual(['sim-base']);
    expect(await statusOf(ask(c, renderAgentMessages(context(task)), 1, 'iter-1'))).toBe(404);
  });
});

describe('code policy', () => {
  it('gets first attempts right at about firstTry; its bugs differ from the reference', async () => {
    const server = await start({ skill: { firstTry: 0.4 } });
    const c = client(server);
    let right = 0;
    let answers = 0;
    for (const seed of [11, 12]) {
      const replies = await Promise.all(tasks.map((t) => ask(c, renderAgentMessages(context(t)), seed)));
      replies.forEach((reply, i) => {
        const p = program(reply);
        expect(p).toBeTruthy();
        answers++;
        if (p === reference(tasks[i])) right++;
        else expect(p).not.toBe(reference(tasks[i]));
      });
    }
    expect(answers).toBe(100);
    expect(right / answers).toBeGreaterThan(0.28);
    expect(right / answers).toBeLessThan(0.52);
  });

  it('fixes after feedback at fixWithFeedback, or at fixWithExperience when the lesson is in the prompt', async () => {
    const server = await start({ skill: { firstTry: 0, fixWithFeedback: 0, fixWithExperience: 1 } });
    const c = client(server);
    for (const task of tasks.slice(0, 10)) {
      const first = program(await ask(c, renderAgentMessages(context(task)), 4))!;
      expect(first).not.toBe(reference(task));
      const withFeedback = program(await ask(c, renderAgentMessages(context(task, [first])), 4));
      expect(withFeedback).not.toBe(reference(task));
      const withLesson = program(await ask(c, renderAgentMessages(context(task, [first], 'Check the empty list.')), 4));
      expect(withLesson).toBe(reference(task));
    }
  });
});
