import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_BASE_SKILL, type SimSkill } from '../contract/sim-skill';
import type { ChatMessage } from '../core/prompts';
import { createRandom, deriveSeed } from '../core/random';
import { drawLatencyMs, type LatencySpec } from './latency';
import type { SimPolicy, SimRequest } from './policy';
import { SimStats, type SimStatsSnapshot } from './sim-stats';
import { readSimAdapter } from './sim-trainer';

/**
 * The simulator's inference server: an OpenAI/vLLM-compatible HTTP endpoint whose answers come
 * from scripted policies (for tests, CI and dry runs; it is not a model). Answers are a pure
 * function of (seed, skill of the requested model, messages, request seed, reflection flag).
 */

export interface SimFaults {
  /** Fraction of attempts answered 500. */
  http500?: number;
  /** Fraction of attempts answered 429. */
  http429?: number;
  /** Fraction of attempts held until the client disconnects or hangMs passes. */
  hang?: number;
  /** How long a hang lasts before the request is answered normally (default 30 s). */
  hangMs?: number;
}

export interface SimServerOptions {
  seed?: number;
  policies: SimPolicy[];
  /** Served base model name (default "sim-base"). */
  baseModel?: string;
  /** Base model skill, over DEFAULT_BASE_SKILL. */
  skill?: Partial<SimSkill>;
  latency?: LatencySpec;
  faults?: SimFaults;
  /** At most this many requests processed at once; the rest wait in FIFO order. */
  capacity?: number;
  /** Fraction of reflection answers that are not clean JSON or name an out-of-range step. */
  malformedReflectionRate?: number;
  /**
   * Awaited before each chat completion is answered, with the distinct request keys answered so
   * far: a chaos harness holds a run at an exact point of its progress while it kills a worker
   * there (scripts/chaos). Return undefined to answer at once; the answer goes out when the
   * promise settles, if its client is still connected.
   */
  beforeAnswer?: (answeredKeys: number) => Promise<void> | undefined;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface SimServer {
  /** Base URL for the openai client, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): SimStatsSnapshot;
  resetStats(): void;
}

interface LoadedAdapter {
  name: string;
  path: string;
  skill: SimSkill;
  created: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** FIFO counting semaphore that reports slot changes to the stats. */
class Slots {
  private busy = 0;
  private waiting: Array<() => void> = [];
  constructor(
    private readonly capacity: number | undefined,
    private readonly stats: SimStats,
  ) {}

  /** Resolves true once a slot is held, false if the signal aborted while waiting. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.capacity === undefined || this.busy < this.capacity) {
      this.take();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== grant);
        this.stats.setQueued(this.waiting.length);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
      this.stats.setQueued(this.waiting.length);
    });
  }

  release(): void {
    this.busy--;
    this.stats.slotReleased();
    const next = this.waiting.shift();
    this.stats.setQueued(this.waiting.length);
    if (next) {
      this.take();
      next();
    }
  }

  private take(): void {
    this.busy++;
    this.stats.slotTaken();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, 'BadRequestError', 'request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJsonBody(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BadRequestError', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'BadRequestError', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** vLLM's error body: {"error": {message, type, param, code}} with the HTTP status as code. */
function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { error: { message, type, param: null, code: status } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Message content as text; OpenAI also allows an array of {type:"text", text} parts. */
function contentText(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .join('');
  }
  if (content === null || content === undefined) return '';
  throw new HttpError(400, 'BadRequestError', `messages[${index}].content must be a string or an array of text parts`);
}

function parseChatRequest(body: Record<string, unknown>): SimRequest {
  const { model, messages, seed, temperature, response_format: responseFormat } = body;
  if (typeof model !== 'string' || model === '') throw new HttpError(400, 'BadRequestError', "'model' must be a non-empty string");
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new HttpError(400, 'BadRequestError', "'messages' must be a non-empty array of {role, content}");
  }
  const parsed: ChatMessage[] = messages.map((m: unknown, i) => {
    const role = typeof m === 'object' && m !== null ? (m as { role?: unknown }).role : undefined;
    if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'developer') {
      throw new HttpError(400, 'BadRequestError', `messages[${i}].role must be one of system, user, assistant; got ${JSON.stringify(role)}`);
    }
    return { role: role === 'developer' ? 'system' : role, content: contentText((m as { content?: unknown }).content, i) };
  });
  if (seed !== undefined && seed !== null && !Number.isInteger(seed)) throw new HttpError(400, 'BadRequestError', "'seed' must be an integer");
  if (temperature !== undefined && temperature !== null && typeof temperature !== 'number') {
    throw new HttpError(400, 'BadRequestError', "'temperature' must be a number");
  }
  const formatType = typeof responseFormat === 'object' && responseFormat !== null ? (responseFormat as { type?: unknown }).type : undefined;
  return {
    model,
    messages: parsed,
    seed: typeof seed === 'number' ? seed : 0,
    temperature: typeof temperature === 'number' ? temperature : 1,
    wantsReflection: formatType === 'json_schema',
  };
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Identity of a request's content, model excluded: a trained adapter sees the same random stream. */
function contentKey(r: Pick<SimRequest, 'messages' | 'seed' | 'wantsReflection'>): string {
  return sha(JSON.stringify([r.messages.map((m) => [m.role, m.content]), r.seed, r.wantsReflection]));
}

/**
 * The key a request's latency, faults and counters are drawn by: its content and model. The
 * benchmarks compute it too, to subtract exactly the simulated inference time.
 */
export function simRequestKey(r: Pick<SimRequest, 'model' | 'messages' | 'seed' | 'wantsReflection'>): string {
  return requestKey(r.model, contentKey(r));
}

const requestKey = (model: string, ck: string) => sha(`${model}\u0000${ck}`);

const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/** A reflection answer a sloppy server/model might give; the client must parse it leniently. */
function malformedReflection(step: number, experience: string, steps: number, rand: () => number): string {
  const variant = Math.floor(rand() * 3);
  if (variant === 0) return `I think the mistake happened at step ${step}. ${experience}`;
  if (variant === 1) return '```json\n' + JSON.stringify({ step, experience }) + '\n```';
  return JSON.stringify({ step: rand() < 0.5 ? 0 : steps + 1 + Math.floor(rand() * 3), experience });
}

function countSteps(messages: ChatMessage[]): number {
  return messages.reduce((n, m) => n + (m.content.match(/^--- Step \d+ ---$/gm)?.length ?? 0), 0);
}

export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const seed = options.seed ?? 0;
  const baseModel = options.baseModel ?? 'sim-base';
  const baseSkill: SimSkill = { ...DEFAULT_BASE_SKILL, ...options.skill };
  const faults = options.faults ?? {};
  const startedAt = Math.floor(Date.now() / 1000);
  if (options.capacity !== undefined && !(Number.isInteger(options.capacity) && options.capacity > 0)) {
    throw new Error(`sim server: capacity must be a positive integer, got ${options.capacity}`);
  }
  const stats = new SimStats(options.capacity);
  const slots = new Slots(options.capacity, stats);
  const adapters = new Map<string, LoadedAdapter>();

  function skillOf(model: string): SimSkill {
    if (model === baseModel) return baseSkill;
    const adapter = adapters.get(model);
    if (!adapter) throw new HttpError(404, 'NotFoundError', `The model \`${model}\` does not exist.`);
    return adapter.skill;
  }

  function answer(request: SimRequest, skill: SimSkill, policy: SimPolicy, key: string): string {
    const rand = createRandom(deriveSeed(seed, 'answer', key));
    if (!request.wantsReflection) return policy.act(request, skill, rand);
    const { step, experience } = policy.reflect(request, skill, rand);
    const rate = options.malformedReflectionRate ?? 0;
    const sloppy = createRandom(deriveSeed(seed, 'malformed', key));
    if (rate > 0 && sloppy() < rate) return malformedReflection(step, experience, countSteps(request.messages), sloppy);
    return JSON.stringify({ step, experience });
  }

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const request = parseChatRequest(parseJsonBody(await readBody(req)));
    const skill = skillOf(request.model);
    const policy = options.policies.find((p) => p.handles(request));
    if (!policy) {
      throw new HttpError(
        400,
        'BadRequestError',
        `no simulator policy recognises this request: the first user message must contain 'Task id: <id>' of a task the simulator was started with (${options.policies.length} policies loaded)`,
      );
    }
    const ck = contentKey(request);
    const key = requestKey(request.model, ck);
    const occurrence = stats.attempt(key);

    // Faults are drawn per (key, occurrence): a retry gets a fresh draw, so it can succeed.
    const f = createRandom(deriveSeed(seed, 'fault', key, occurrence))();
    const p500 = faults.http500 ?? 0;
    const p429 = faults.http429 ?? 0;
    const pHang = faults.hang ?? 0;
    if (f < p500) {
      stats.status(500);
      return sendError(res, 500, 'InternalServerError', 'simulated internal server error');
    }
    if (f < p500 + p429) {
      stats.status(429);
      return sendError(res, 429, 'RateLimitError', 'simulated rate limit: too many requests');
    }
    // A hang models a stuck connection, not a busy server: it holds no capacity slot.
    if (f < p500 + p429 + pHang && !(await sleep(faults.hangMs ?? 30_000, signal))) {
      stats.status(499);
      return;
    }

    if (!(await slots.acquire(signal))) {
      stats.status(499);
      return;
    }
    try {
      if (!(await sleep(drawLatencyMs(options.latency, seed, key), signal))) {
        stats.status(499);
        return;
      }
      const held = options.beforeAnswer?.(stats.answeredKeys());
      if (held) {
        await held;
        // A client killed while its answer was held gets none: no 200 for a request nobody received.
        if (signal.aborted) {
          stats.status(499);
          return;
        }
      }
      const content = answer(request, skill, policy, ck);
      const promptTokens = estimateTokens(request.messages.map((m) => m.content).join(''));
      const completionTokens = estimateTokens(content);
      stats.status(200, key);
      sendJson(res, 200, {
        id: `chatcmpl-sim-${key}-${occurrence}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    } finally {
      slots.release();
    }
  }

  function listModels(res: ServerResponse): void {
    const card = (id: string, root: string, parent: string | null, created: number) => ({
      id,
      object: 'model',
      created,
      owned_by: 'vllm',
      root,
      parent,
      max_model_len: 32768,
      permission: [],
    });
    sendJson(res, 200, {
      object: 'list',
      data: [card(baseModel, baseModel, null, startedAt), ...[...adapters.values()].map((a) => card(a.name, a.path, baseModel, a.created))],
    });
  }

  // vLLM: errors are JSON with the status as code; success is a plain-text sentence.
  async function loadAdapter(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJsonBody(await readBody(req));
    const name = body.lora_name;
    const path = body.lora_path;
    if (typeof name !== 'string' || !name || typeof path !== 'string' || !path) {
      throw new HttpError(400, 'InvalidUserInput', "Both 'lora_name' and 'lora_path' must be provided.");
    }
    if (adapters.has(name) && body.load_inplace !== true) {
      throw new HttpError(
        400,
        'InvalidUserInput',
        `The lora adapter '${name}' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True.`,
      );
    }
    if (name === baseModel) throw new HttpError(400, 'InvalidUserInput', `The lora adapter name '${name}' conflicts with a served base model.`);
    let skill: SimSkill;
    try {
      skill = (await readSimAdapter(path)).skill;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new HttpError(404, 'NotFoundError', `Loading lora ${name} failed: No adapter found for ${path}`);
      }
      throw new HttpError(400, 'BadRequestError', `Loading lora ${name} failed: ${(err as Error).message}`);
    }
    adapters.set(name, { name, path, skill, created: Math.floor(Date.now() / 1000) });
    sendText(res, 200, `Success: LoRA adapter '${name}' added successfully.`);
  }

  async function unloadAdapter(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJsonBody(await readBody(req));
    const name = body.lora_name;
    if (typeof name !== 'string' || !name) {
      throw new HttpError(400, 'InvalidUserInput', "either 'lora_name' and 'lora_int_id' needs to be provided.");
    }
    if (!adapters.delete(name)) throw new HttpError(404, 'NotFoundError', `The lora adapter '${name}' cannot be found.`);
    sendText(res, 200, `Success: LoRA adapter '${name}' removed successfully.`);
  }

  async function route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (method === 'POST' && path === '/v1/chat/completions') return chatCompletions(req, res, signal);
    if (method === 'GET' && path === '/v1/models') return listModels(res);
    if (method === 'POST' && path === '/v1/load_lora_adapter') return loadAdapter(req, res);
    if (method === 'POST' && path === '/v1/unload_lora_adapter') return unloadAdapter(req, res);
    if (method === 'GET' && (path === '/health' || path === '/ping')) return sendText(res, 200, '');
    throw new HttpError(404, 'NotFoundError', `no route ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    route(req, res, controller.signal).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      if (err instanceof HttpError) {
        if (req.url?.startsWith('/v1/chat/completions')) stats.rejected(err.status);
        return sendError(res, err.status, err.type, err.message);
      }
      stats.status(500);
      sendError(res, 500, 'InternalServerError', `simulator bug: ${(err as Error).stack ?? String(err)}`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';

  return {
    url: `http://${host}:${port}/v1`,
    port,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Hung requests hold their sockets open; end them so close() returns.
        server.closeAllConnections();
      }),
  };
}
