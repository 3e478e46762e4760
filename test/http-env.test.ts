import { afterEach, describe, expect, it } from 'vitest';
import { createHttpProvider, type HttpProviderOptions } from '../envs/http/http-provider';
import { AgentGymClient } from '../envs/http/agentgym-client';
import { dialectFor } from '../envs/http/agentgym-dialects';
import {
  AgentGymError,
  AgentGymHttpError,
  AgentGymReplayMismatchError,
  AgentGymServerError,
  AgentGymSessionLostError,
} from '../envs/http/agentgym-errors';
import type { Environment, StepResult } from '../contract/environment-port';
import { startAgentGymTestServer, type AgentGymTestServer, type TestServerDialect } from './support/agentgym-test-server';

// Task 0 hides the key in the kitchen.
const SOLUTION = ['go to kitchen', 'open drawer', 'take key', 'go to hall', 'open box'];
const FAST: HttpProviderOptions = { timeoutMs: 5_000, retries: 4, backoffMs: 10, maxBackoffMs: 100 };

const servers: AgentGymTestServer[] = [];
const envs: Environment[] = [];

async function setup(dialect: TestServerDialect = 'textcraft', options: HttpProviderOptions = FAST) {
  const server = await startAgentGymTestServer({ dialect });
  servers.push(server);
  const provider = createHttpProvider({ kind: 'http', baseUrl: server.url, env: dialect, count: 3 }, options);
  const open = async (task = '0') => {
    const env = await provider.open(task, 0);
    envs.push(env);
    return env;
  };
  return { server, provider, open };
}

async function play(env: Environment, actions: string[]): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const action of actions) results.push(await env.step(action));
  return results;
}

const count = (server: AgentGymTestServer, call: string) => server.calls.filter((c) => c === call).length;

afterEach(async () => {
  // Every test must leave no session open on servers that have /close.
  for (const env of envs.splice(0)) await env.close();
  for (const server of servers) if (server.dialect === 'textcraft') expect(server.openSessions()).toBe(0);
  for (const server of servers.splice(0)) await server.close();
});

describe('http environment (AgentGym protocol)', () => {
  it('plays a task to success and answers steps after done locally', async () => {
    const { server, provider, open } = await setup();
    expect(await provider.listTasks()).toEqual(['0', '1', '2']);
    expect(await provider.listTasks(2)).toEqual(['0', '1']);
    expect(provider.instructions()).toContain('one action');

    const env = await open('0');
    const first = await env.reset();
    expect(first).toContain('Task 0: find the key and open the box.');
    const results = await play(env, SOLUTION);
    expect(results.map((r) => r.done)).toEqual([false, false, false, false, true]);
    expect(results[1].feedback).toBe('You open the drawer. There is a key inside.');
    expect(results[4]).toMatchObject({ done: true, success: true, reward: 1 });
    expect(server.openSessions()).toBe(1);

    const stepsSent = count(server, 'POST /step');
    const after = await env.step('inventory');
    expect(after).toMatchObject({ done: true, success: true, reward: 0 });
    expect(after.feedback).toContain('already over');
    expect(count(server, 'POST /step')).toBe(stepsSent);

    await env.close();
    await env.close(); // idempotent
    expect(server.openSessions()).toBe(0);
  });

  it('rolls back the way leafe does: reset + replay a prefix reproduces the observations', async () => {
    const { server, open } = await setup();
    const env = await open('0');
    const initial = await env.reset();
    const original = await play(env, ['go to study', 'open drawer', 'go to kitchen', 'open drawer']);

    // Backtrack to step 3: replay a1..a2, then take a different action.
    expect(await env.reset()).toBe(initial);
    const replayed = await play(env, ['go to study', 'open drawer']);
    expect(replayed).toEqual(original.slice(0, 2));
    const branch = await env.step('go to cellar');
    expect(branch.feedback).toBe('You are in the cellar. There is a drawer here.');
    expect(count(server, 'POST /create')).toBe(1); // reset reuses the session
  });

  it('surfaces {"error"} replies as typed errors naming the URL and the message', async () => {
    const { server } = await setup();
    const client = new AgentGymClient(server.url, dialectFor('textcraft'), FAST);
    const id = await client.create();
    // Reset first, then step a finished game: the server refuses with {"error"}.
    await client.reset(id, 0);
    for (const action of SOLUTION) await client.step(id, action);
    const error = await client.step(id, 'look').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentGymServerError);
    expect((error as Error).message).toContain(`${server.url}/step`);
    expect((error as Error).message).toContain(`The task with environment ${id} has finished.`);

    const lost = await client.step(999, 'look').catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(AgentGymSessionLostError);
    expect((lost as Error).message).toContain('The id 999 is not valid.');
    await client.close(id);
    await client.close(id); // unknown id now: still no throw
  });

  it('recovers from a server restart mid-episode by re-create + replay, with identical observations', async () => {
    const { server, open } = await setup();
    const reference = await open('0');
    await reference.reset();
    const expected = await play(reference, SOLUTION);
    await reference.close();

    const env = await open('0');
    await env.reset();
    const before = await play(env, SOLUTION.slice(0, 3));
    await server.restart();
    expect(server.openSessions()).toBe(0);
    const afterRestart = await play(env, SOLUTION.slice(3));
    expect([...before, ...afterRestart]).toEqual(expected);
    expect(afterRestart.at(-1)).toMatchObject({ done: true, success: true });
    expect(server.openSessions()).toBe(1);
  });

  it('recovers when the server is down for a while (connection refused, then back with no sessions)', async () => {
    const { server, open } = await setup();
    const env = await open('0');
    await env.reset();
    await play(env, SOLUTION.slice(0, 2));
    await server.stop();
    const back = new Promise<void>((resolve) => setTimeout(() => resolve(server.start()), 150));
    const rest = await play(env, SOLUTION.slice(2));
    await back;
    expect(rest.at(-1)).toMatchObject({ done: true, success: true });
  });

  it('retries 503 with backoff and gives up with the status when retries run out', async () => {
    const { server, open } = await setup();
    const env = await open('0');
    await env.reset();
    server.failNext(2);
    const r = await env.step('go to kitchen');
    expect(r.feedback).toBe('You are in the kitchen. There is a drawer here.');
    expect(count(server, 'POST /step')).toBe(3);

    server.failNext(50);
    const error = await env.step('open drawer').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentGymHttpError);
    expect((error as Error).message).toContain('HTTP 503');
    server.failNext(0);
    // The failed step was never applied: the episode continues where it was.
    expect((await env.step('open drawer')).feedback).toBe('You open the drawer. There is a key inside.');
  });

  it('never re-sends a step that timed out: it rebuilds the session by replay instead', async () => {
    const { server, open } = await setup('textcraft', { ...FAST, timeoutMs: 300 });
    const env = await open('0');
    await env.reset();
    await play(env, SOLUTION.slice(0, 2));
    // The server applies "take key" but answers too late; re-sending it to the same
    // session would answer "There is no key here."
    server.stallNext(1, 600);
    const r = await env.step('take key');
    expect(r.feedback).toBe('You take the key.');
    expect(count(server, 'POST /create')).toBe(2);
    const rest = await play(env, SOLUTION.slice(3));
    expect(rest.at(-1)).toMatchObject({ done: true, success: true });
    await new Promise((resolve) => setTimeout(resolve, 400)); // let the stalled reply drain
  });

  it('refuses to continue when replay after a restart does not reproduce the episode', async () => {
    const { server, open } = await setup();
    const env = await open('0');
    await env.reset();
    await play(env, SOLUTION.slice(0, 2));
    await server.restart();
    server.setObservationSuffix(' (changed)');
    const error = await env.step('take key').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentGymReplayMismatchError);
    expect((error as Error).message).toContain('replaying action 1 "go to kitchen"');
    expect((error as Error).message).toContain('not deterministic');
  });

  it('gives up after maxRestores rebuilds when the server stays away, naming the setting', async () => {
    const { server, open } = await setup('textcraft', { ...FAST, retries: 1, maxRestores: 2 });
    const env = await open('0');
    await env.reset();
    await server.stop();
    const error = await env.step('go to kitchen').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentGymError);
    expect((error as Error).message).toContain('gave up after 2 session rebuild(s) (setting maxRestores=2)');
    expect((error as Error).message).toContain(server.url);
    await server.start();
  });

  it('rejects step() before reset()', async () => {
    const { open } = await setup();
    const env = await open('0');
    await expect(env.step('look')).rejects.toThrow('step() called before reset()');
  });

  it('fails the health check with a message naming the URL', async () => {
    const server = await startAgentGymTestServer();
    const url = server.url;
    await server.close();
    const provider = createHttpProvider({ kind: 'http', baseUrl: url, env: 'textcraft', count: 1 }, { ...FAST, retries: 1 });
    await expect(provider.open('0', 0)).rejects.toThrow(`not reachable at ${url} (health check GET ${url}/ failed)`);
  });

  it('rejects bad specs with the field, the value and what was expected', () => {
    expect(() => createHttpProvider({ kind: 'http', baseUrl: 'http://127.0.0.1:1', env: 'minecraft', count: 1 })).toThrow(
      'field "env" is "minecraft", expected one of textcraft, babyai, sciworld, alfworld, webshop',
    );
    expect(() => createHttpProvider({ kind: 'http', baseUrl: 'http://127.0.0.1:1', env: 'alfworld' })).toThrow('field "count"');
    expect(() => createHttpProvider({ kind: 'http', baseUrl: 'not a url', env: 'alfworld', count: 1 })).toThrow('field "baseUrl" is "not a url"');
  });

  it('speaks the alfworld dialect: game/world_type reset, available actions in the observation', async () => {
    const { open } = await setup('alfworld');
    const env = await open('1'); // key in the study
    const first = await env.reset();
    expect(first).toContain('Available actions:\ngo to kitchen\ngo to study');
    const results = await play(env, ['go to study', 'open drawer', 'take key', 'go to hall', 'open box']);
    expect(results[0].observation).toContain('open drawer');
    expect(results.at(-1)).toMatchObject({ done: true, success: true });
  });

  it('speaks the webshop dialect: env_idx, bare-int create, [obs, null] reset, state field, clickables', async () => {
    const { server, open } = await setup('webshop');
    const env = await open('0');
    const first = await env.reset();
    expect(first).toContain('Task 0');
    expect(first).toContain('click[go to kitchen]');
    const results = await play(env, SOLUTION.slice(0, 3).map((a) => `click[${a}]`));
    expect(results[2].feedback).toBe('You take the key.');

    // Unknown env_idx is a bare HTTP 500 on webshop: treated as a lost session.
    await server.restart();
    const rest = await play(env, SOLUTION.slice(3).map((a) => `click[${a}]`));
    expect(rest.at(-1)).toMatchObject({ done: true, success: true, reward: 1 });
    await env.close(); // no /close endpoint on webshop: must not throw
  });
});
