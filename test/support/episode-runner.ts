// Shared by the exploration acceptance tests: the HumanEval env spec, the simulator with its
// policies, starting an episode, reading a workflow history, comparing trees.
import { HUMANEVAL_FILE } from '../../infra/paths';
import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from './loopback-server';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { CodeEnvSpec } from '../../core/env-spec';
import { DEFAULT_LEAFE_SETTINGS, DEFAULT_SAMPLING, type EpisodeTimeouts, type InferenceSettings, type LeafeSettings } from '../../core/leafe-settings';
import type { EpisodeTree } from '../../core/tree';
import { providerFor } from '../../envs/registry';
import { startSimServer, type SimServer, type SimServerOptions } from '../../sim/sim-server';
import { simPoliciesFor } from '../../sim/sim-policies';
import type { TaskQueues } from '../../contract/task-queues';
import type { EpisodeInput } from '../../contract/episode-types';

export const HUMANEVAL = HUMANEVAL_FILE;
export const CODE_ENV: CodeEnvSpec = { kind: 'code', tasks: HUMANEVAL };

export async function firstTasks(n: number): Promise<string[]> {
  return providerFor(CODE_ENV).listTasks(n);
}

export async function startCodeSim(options: Omit<SimServerOptions, 'policies'> & { seed: number }): Promise<SimServer> {
  return startSimServer({ ...options, policies: await simPoliciesFor(CODE_ENV) });
}

export function simInference(url: string, model = 'sim-base'): InferenceSettings {
  return { ...DEFAULT_SAMPLING, baseUrl: url, model };
}

export interface EpisodeRun {
  client: Client;
  queues: TaskQueues;
  workflowId: string;
  taskId: string;
  seed: number;
  inference: InferenceSettings;
  leafe?: Partial<LeafeSettings>;
  timeouts?: Partial<EpisodeTimeouts>;
}

export function episodeInput(run: EpisodeRun): EpisodeInput {
  return {
    taskId: run.taskId,
    env: CODE_ENV,
    seed: run.seed,
    inference: run.inference,
    leafe: { ...DEFAULT_LEAFE_SETTINGS, ...run.leafe },
    queues: run.queues,
    timeouts: run.timeouts,
  };
}

export async function startEpisode(run: EpisodeRun) {
  return run.client.workflow.start('episodeWorkflow', {
    taskQueue: run.queues.workflows,
    workflowId: run.workflowId,
    args: [episodeInput(run)],
  });
}

export async function runEpisode(run: EpisodeRun): Promise<EpisodeTree> {
  const handle = await startEpisode(run);
  return (await handle.result()) as EpisodeTree;
}

/** The tree without what legitimately differs between two runs of the same seeded episode. */
export function comparableTree(tree: EpisodeTree, options: { ignoreReopens?: boolean } = {}): unknown {
  return {
    ...tree,
    episodeId: undefined,
    branches: tree.branches.map((b) => ({ ...b, workflowId: undefined, reopens: options.ignoreReopens ? undefined : b.reopens })),
  };
}

export interface ScheduledActivity {
  eventId: number;
  type: string;
  taskQueue: string;
  input: unknown[];
}

type HistoryEvent = NonNullable<History['events']>[number];

function decode(payloads: { payloads?: unknown[] | null } | null | undefined): unknown[] {
  return (payloads?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p as never));
}

/** Every ActivityTaskScheduled event of a history, with its input decoded by the default converter. */
export function scheduledActivities(history: History): ScheduledActivity[] {
  return (history.events ?? [])
    .filter((e: HistoryEvent) => e.activityTaskScheduledEventAttributes)
    .map((e: HistoryEvent) => {
      const a = e.activityTaskScheduledEventAttributes!;
      return { eventId: Number(e.eventId), type: a.activityType?.name ?? '', taskQueue: a.taskQueue?.name ?? '', input: decode(a.input) };
    });
}

/** Results of completed activities, keyed by the scheduled event id. */
export function completedActivities(history: History): Map<number, unknown> {
  const out = new Map<number, unknown>();
  for (const e of history.events ?? []) {
    const a = e.activityTaskCompletedEventAttributes;
    if (a) out.set(Number(a.scheduledEventId), decode(a.result)[0]);
  }
  return out;
}

export interface RecordedRequest {
  body: {
    model: string;
    seed: number;
    messages: Array<{ role: string; content: string }>;
    response_format?: { type: string };
  };
  status: number;
}

/**
 * A pass-through HTTP proxy in front of the simulator that keeps every chat-completions request
 * body it forwarded: the evidence of what the inference server was really sent.
 */
export async function startRecordingProxy(targetBaseUrl: string): Promise<{ url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const origin = new URL(targetBaseUrl).origin;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      void (async () => {
        try {
          const upstream = await fetch(`${origin}${req.url ?? '/'}`, {
            method: req.method,
            headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
            body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
          });
          const answer = Buffer.from(await upstream.arrayBuffer());
          if (req.url?.startsWith('/v1/chat/completions')) requests.push({ body: JSON.parse(body.toString('utf8')), status: upstream.status });
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(answer);
        } catch (err) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(err));
        }
      })();
    });
  });
  return { ...(await listenOnLoopback(server)), requests };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` every `everyMs` until it returns something truthy, which it returns; throws after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
