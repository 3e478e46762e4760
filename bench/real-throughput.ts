/**
 * How busy is the inference server during the real explore stage?
 *
 * Model: SmolLM2-135M-Instruct on vLLM (CPU), provisioned by `npx leafe setup real`.
 *
 *   node --import tsx bench/real-throughput.ts [--tasks N] [--concurrency C] [--json] [--keep]
 *
 * One vLLM is started for the run (own free port, log in the bench's temporary run dir), then:
 *
 *   A. leafe: the first N tasks of examples/tasks/simple-functions.jsonl are explored as episode
 *      workflows through Temporal (in-process workers, at most C episodes at once) with the
 *      settings of examples/real-smollm2.yaml (horizon 2, budget 6, maxDepth 2, maxBranches 4,
 *      reflectOnFailure, temperature 0.7, maxTokens 256).
 *   B. plain client: every request leafe journalled in A (<runDir>/completions) is rebuilt from
 *      its stored trajectory (same messages, sampling parameters, seed and, for reflections, the
 *      same JSON-schema response_format) and replayed with the `openai` client against the same
 *      server, at most C requests in flight, in journal order (file mtime).
 *
 * For each phase: wall time (first request/episode start to last end), the server's generated
 * tokens (delta of the Prometheus counter vllm:generation_tokens_total), tokens/s, and the mean of
 * the vllm:num_requests_running gauge sampled every second. The ratio A/B is measured in the same
 * run on the same server; the prefix cache is reset before each phase (when the server allows
 * it), so B does not get A's prompts for free.
 *
 * Why the ratio is below 1: in A, each branch is a chain request -> environment step (running
 * the candidate program against the tests in a sandbox) -> Temporal round trips (activity
 * completion, workflow task, next activity) -> next request; and an episode's branches run one
 * after another (each a child workflow that opens a new sandbox session and replays its prefix
 * before its first request). Between two requests of an episode the server has nothing from that
 * episode, so with C episodes at most C requests are in flight and often fewer. B sends the same
 * requests with no environment steps, no Temporal and no dependencies between them: as soon as one
 * ends the next starts, so C requests are in flight until the list runs out. The gap is the share
 * of server capacity that leafe's orchestration and the environment leave unused at concurrency C.
 * Decode time per request dominates on a CPU server, so the gap is small there; a faster server
 * (GPU) makes the same fixed per-step cost weigh more.
 *
 * Caveats: anything else using the CPU at the same time (another vLLM, say) slows both phases,
 * and unevenly if its load changes between them. The tail of each phase (the last episodes or
 * requests, fewer than C in flight) is counted in both. Requests are seeded, so B normally gets
 * the very replies A got (reported as "identical replies") and both phases decode the same tokens.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import type { EnvSpec } from '../core/env-spec';
import { DEFAULT_LEAFE_SETTINGS, type InferenceSettings, type LeafeSettings } from '../core/leafe-settings';
import { renderAgentMessages, renderReflectionMessages } from '../core/prompts';
import { deriveSeed } from '../core/random';
import type { EpisodeTree } from '../core/tree';
import { loadTrajectory } from '../activities/environment/trajectory';
import { toAgentContext } from '../core/trajectory';
import type { CompletionKey } from '../activities/inference/completion-journal';
import { REFLECTION_FORMAT } from '../inference/inference-client';
import { startLocalRuntime, type LocalRuntime } from '../cli/local-runtime';
import { providerFor } from '../envs/registry';
import { ArtifactStore } from '../infra/artifact-store';
import { freePort } from '../runtime/dev-server';
import { PROJECT_ROOT } from '../infra/paths';
import { findRealEnv, type RealModelName } from '../runtime/real-model-env';
import { startVllmServer, type VllmServer } from '../runtime/vllm-server';
import type { EpisodeInput } from '../contract/episode-types';
import pLimit from 'p-limit';
import { log, removeDir, round, tempDir } from './bench-support';

const MODEL: RealModelName = 'smollm2-135m-instruct';
const TASK_FILE = path.join(PROJECT_ROOT, 'examples', 'tasks', 'simple-functions.jsonl');
const SEED = 1;
/** examples/real-smollm2.yaml */
const LEAFE: LeafeSettings = { ...DEFAULT_LEAFE_SETTINGS, horizon: 2, budget: 6, maxDepth: 2, maxBranches: 4, reflectOnFailure: true };
const SAMPLING = { temperature: 0.7, maxTokens: 256, timeoutMs: 120_000 } as const;

// ---------------------------------------------------------------------------------------------
// vLLM's Prometheus endpoint

const METRIC = {
  generated: 'vllm:generation_tokens_total',
  prompt: 'vllm:prompt_tokens_total',
  promptCached: 'vllm:prompt_tokens_cached_total',
  requests: 'vllm:request_success_total',
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
} as const;

/** Every sample of the exposition, summed over label sets per metric name. */
async function scrape(metricsUrl: string): Promise<Map<string, number>> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${metricsUrl}: HTTP ${res.status}`);
  const sums = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) sums.set(m[1], (sums.get(m[1]) ?? 0) + v);
  }
  return sums;
}

const get = (m: Map<string, number>, name: string): number | null => m.get(name) ?? null;
const delta = (a: Map<string, number>, b: Map<string, number>, name: string): number | null => {
  const x = get(a, name);
  const y = get(b, name);
  return x === null || y === null ? null : y - x;
};

/** Counters after the work: read until two reads 300 ms apart agree (the last outputs are counted). */
async function settledCounters(metricsUrl: string): Promise<Map<string, number>> {
  let last = await scrape(metricsUrl);
  for (let i = 0; i < 10; i++) {
    await sleep(300);
    const next = await scrape(metricsUrl);
    if (next.get(METRIC.generated) === last.get(METRIC.generated)) return next;
    last = next;
  }
  return last;
}

interface GaugeSamples {
  running: number[];
  waiting: number[];
}

/** Samples the running/waiting gauges every second until stopped. */
function sampleGauges(metricsUrl: string): { stop(): Promise<GaugeSamples> } {
  const samples: GaugeSamples = { running: [], waiting: [] };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      try {
        const m = await scrape(metricsUrl);
        const r = get(m, METRIC.running);
        const w = get(m, METRIC.waiting);
        if (r !== null) samples.running.push(r);
        if (w !== null) samples.waiting.push(w);
      } catch {
        // a missed sample
      }
      await sleep(Math.max(0, 1000 - (Date.now() - t)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

interface PhaseMetrics {
  wallS: number;
  /** Server-side: delta of vllm:generation_tokens_total over the phase. */
  generatedTokens: number | null;
  tokensPerS: number | null;
  /** Server-side request count (vllm:request_success_total delta). */
  serverRequests: number | null;
  promptTokens: number | null;
  promptTokensCached: number | null;
  /** Mean of vllm:num_requests_running sampled every 1 s. */
  meanRunning: number | null;
  meanWaiting: number | null;
  /** Share of the 1 s samples with at least one request running. */
  busyShare: number | null;
  samples: number;
}

async function measure<T>(metricsUrl: string, work: () => Promise<T>): Promise<{ result: T; metrics: PhaseMetrics }> {
  const before = await scrape(metricsUrl);
  const sampler = sampleGauges(metricsUrl);
  const t0 = performance.now();
  let result: T;
  let gauges: GaugeSamples;
  try {
    result = await work();
  } finally {
    // stop sampling even when the work fails
    gauges = await sampler.stop();
  }
  const wallS = (performance.now() - t0) / 1000;
  const after = await settledCounters(metricsUrl);
  const generatedTokens = delta(before, after, METRIC.generated);
  return {
    result,
    metrics: {
      wallS,
      generatedTokens,
      tokensPerS: generatedTokens === null ? null : generatedTokens / wallS,
      serverRequests: delta(before, after, METRIC.requests),
      promptTokens: delta(before, after, METRIC.prompt),
      promptTokensCached: delta(before, after, METRIC.promptCached),
      meanRunning: mean(gauges.running),
      meanWaiting: mean(gauges.waiting),
      busyShare: gauges.running.length === 0 ? null : gauges.running.filter((r) => r > 0).length / gauges.running.length,
      samples: gauges.running.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The journal of phase A

interface JournalEntry {
  file: string;
  mtimeMs: number;
  key: CompletionKey;
  completion: { content: string; usage: { promptTokens: number; completionTokens: number } };
}

async function readJournal(runDir: string): Promise<JournalEntry[]> {
  const root = path.join(runDir, 'completions');
  const entries: JournalEntry[] = [];
  let dirs: string[];
  try {
    dirs = await readdir(root);
  } catch {
    return [];
  }
  for (const d of dirs.sort()) {
    for (const f of (await readdir(path.join(root, d))).sort()) {
      if (!f.endsWith('.json')) continue; // temp files of an atomic write end in .tmp
      const file = path.join(root, d, f);
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Omit<JournalEntry, 'file' | 'mtimeMs'>;
      entries.push({ file, mtimeMs: (await stat(file)).mtimeMs, key: parsed.key, completion: parsed.completion });
    }
  }
  return entries.sort((a, b) => a.mtimeMs - b.mtimeMs || a.file.localeCompare(b.file));
}

interface ReplayRequest {
  kind: 'act' | 'reflect';
  body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
  journalled: string;
}

/** The exact request leafe sent for each journal entry (inference/inference-client.ts). */
async function rebuildRequests(runDir: string, entries: JournalEntry[], s: InferenceSettings): Promise<ReplayRequest[]> {
  const store = ArtifactStore.forRunDir(runDir);
  const out: ReplayRequest[] = [];
  for (const e of entries) {
    const traj = await loadTrajectory(store, e.key.trajectoryRef);
    const common = { model: e.key.model, temperature: s.temperature, top_p: s.topP, max_tokens: s.maxTokens, seed: e.key.seed };
    out.push(
      e.key.kind === 'act'
        ? { kind: 'act', body: { ...common, messages: renderAgentMessages(toAgentContext(traj, e.key.experience)) }, journalled: e.completion.content }
        : { kind: 'reflect', body: { ...common, messages: renderReflectionMessages(toAgentContext(traj, null)), response_format: REFLECTION_FORMAT }, journalled: e.completion.content },
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

interface PhaseReport extends PhaseMetrics {
  requests: number;
  actRequests: number;
  reflectRequests: number;
  failedRequests: number;
  /** Client-side completion tokens (journal in A, responses in B). */
  clientCompletionTokens: number;
  meanCompletionTokens: number | null;
}

function parseCli(): { tasks: number; concurrency: number; json: boolean; keep: boolean } {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '8' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: got ${JSON.stringify(v)}; expected a positive integer`);
    return n;
  };
  return { tasks: int('tasks', values.tasks), concurrency: int('concurrency', values.concurrency), json: values.json, keep: values.keep };
}

async function main(): Promise<number> {
  const opts = parseCli();
  const realEnv = findRealEnv();
  const modelLabel = `SmolLM2-135M-Instruct on vLLM (${realEnv.device.toUpperCase()})`;
  const runDir = tempDir('real-throughput');
  log(`real-throughput: ${modelLabel}; ${opts.tasks} task(s), concurrency ${opts.concurrency}; run dir ${runDir}`);

  // The prefix-cache reset endpoint exists only in vLLM's dev mode (this process's env is the server's).
  process.env.VLLM_SERVER_DEV_MODE = '1';
  let server: VllmServer | null = null;
  let runtime: LocalRuntime | null = null;
  let cleaning: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      await runtime?.close().catch((err: unknown) => log(`runtime close: ${String(err)}`));
      await server?.stop().catch((err: unknown) => log(`vLLM stop: ${String(err)}`));
    })());
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping vLLM and the workers`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    server = await startVllmServer({
      env: realEnv,
      modelDir: realEnv.modelDir(MODEL),
      servedName: MODEL,
      port: await freePort(),
      logFile: path.join(runDir, 'vllm', 'vllm.log'),
      log,
    });
    const root = server.baseUrl.replace(/\/v1$/, '');
    const metricsUrl = `${root}/metrics`;
    const vllmVersion = await fetch(`${root}/version`)
      .then(async (r) => (r.ok ? ((await r.json()) as { version?: string }).version ?? null : null))
      .catch(() => null);
    const openai = new OpenAI({ baseURL: server.baseUrl, apiKey: 'EMPTY', maxRetries: 0, timeout: SAMPLING.timeoutMs });

    // Warm-up outside both phases: first decode and the JSON-schema grammar compile.
    await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 8, seed: 0 });
    await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Reflect.' }], max_tokens: 16, seed: 0, response_format: REFLECTION_FORMAT });
    const resetPrefixCache = async (): Promise<boolean> => {
      for (let i = 0; i < 10; i++) {
        const r = await fetch(`${root}/reset_prefix_cache`, { method: 'POST' }).catch(() => null);
        if (!r || !r.ok) return false;
        if (((await r.json().catch(() => ({}))) as { success?: boolean }).success !== false) return true;
        await sleep(500); // blocks still held: retry
      }
      return false;
    };

    runtime = await startLocalRuntime({ runDir, log });
    const rt = runtime;
    const env: EnvSpec = { kind: 'code', tasks: TASK_FILE };
    const taskIds = await providerFor(env).listTasks(opts.tasks);
    const inference: InferenceSettings = { ...SAMPLING, baseUrl: server.baseUrl, model: MODEL };
    const runId = `bench-real-throughput-${new Date().toISOString().replace(/[:.]/g, '-')}`;

    // Phase A: through leafe
    const resetA = await resetPrefixCache();
    log(`phase A (leafe): ${taskIds.length} episode(s), at most ${opts.concurrency} at once (${runId})`);
    const a = await measure(metricsUrl, () =>
      pLimit(opts.concurrency).map(taskIds, (taskId) => {
        const input: EpisodeInput = { taskId, env, seed: deriveSeed(SEED, 'explore', 1, taskId), inference, leafe: LEAFE, queues: rt.queues };
        return rt.client.workflow.execute('episodeWorkflow', { taskQueue: rt.queues.workflows, workflowId: `${runId}/${taskId}`, args: [input] }) as Promise<EpisodeTree>;
      }),
    );
    const trees = a.result;
    const journal = await readJournal(runDir);
    const journalTokens = journal.reduce((n, e) => n + e.completion.usage.completionTokens, 0);
    const phaseA: PhaseReport = {
      ...a.metrics,
      requests: journal.length,
      actRequests: journal.filter((e) => e.key.kind === 'act').length,
      reflectRequests: journal.filter((e) => e.key.kind === 'reflect').length,
      failedRequests: 0,
      clientCompletionTokens: journalTokens,
      meanCompletionTokens: journal.length ? journalTokens / journal.length : null,
    };
    log(`phase A: ${journal.length} requests in ${a.metrics.wallS.toFixed(1)} s; ${a.metrics.generatedTokens} generated tokens (journal ${journalTokens})`);
    await runtime.close();
    runtime = null;

    // Phase B: the same requests, plain client
    const requests = await rebuildRequests(runDir, journal, inference);
    const resetB = await resetPrefixCache();
    log(`phase B (plain openai client): ${requests.length} request(s), at most ${opts.concurrency} in flight`);
    const b = await measure(metricsUrl, () =>
      pLimit(opts.concurrency).map(requests, async (req) => {
        try {
          const res = await openai.chat.completions.create(req.body);
          const content = res.choices[0]?.message?.content ?? '';
          return { ok: true, tokens: res.usage?.completion_tokens ?? 0, same: content === req.journalled };
        } catch (err) {
          log(`phase B: ${req.kind} request failed: ${err instanceof Error ? err.message : String(err)}`);
          return { ok: false, tokens: 0, same: false };
        }
      }),
    );
    const ok = b.result.filter((r) => r.ok);
    const bTokens = ok.reduce((n, r) => n + r.tokens, 0);
    const phaseB: PhaseReport = {
      ...b.metrics,
      requests: requests.length,
      actRequests: requests.filter((r) => r.kind === 'act').length,
      reflectRequests: requests.filter((r) => r.kind === 'reflect').length,
      failedRequests: requests.length - ok.length,
      clientCompletionTokens: bTokens,
      meanCompletionTokens: ok.length ? bTokens / ok.length : null,
    };
    const sameContent = b.result.filter((r) => r.same).length;
    log(`phase B: ${ok.length}/${requests.length} requests in ${b.metrics.wallS.toFixed(1)} s; ${b.metrics.generatedTokens} generated tokens`);

    const ratio = phaseA.tokensPerS !== null && phaseB.tokensPerS ? phaseA.tokensPerS / phaseB.tokensPerS : null;
    const notes: string[] = [];
    if (!resetA || !resetB) notes.push('the prefix cache could not be reset between phases (POST /reset_prefix_cache failed): phase B may reuse phase A\'s cached prompts');
    if (phaseA.meanCompletionTokens !== null && phaseB.meanCompletionTokens !== null) {
      const rel = Math.abs(phaseA.meanCompletionTokens - phaseB.meanCompletionTokens) / Math.max(1, phaseA.meanCompletionTokens);
      notes.push(
        rel <= 0.1
          ? `mean completion tokens per request are close (A ${phaseA.meanCompletionTokens.toFixed(1)}, B ${phaseB.meanCompletionTokens.toFixed(1)}): both phases did the same decoding work`
          : `mean completion tokens per request differ by ${(rel * 100).toFixed(0)}% (A ${phaseA.meanCompletionTokens.toFixed(1)}, B ${phaseB.meanCompletionTokens.toFixed(1)}): tokens/s compares different work; read the ratio with care`,
      );
    }
    if (phaseA.generatedTokens !== null && Math.abs(phaseA.generatedTokens - journalTokens) > Math.max(2, 0.02 * journalTokens)) {
      notes.push(`phase A: the server generated ${phaseA.generatedTokens} tokens but the journal records ${journalTokens} (requests asked again after a failed attempt, or warm-up/other traffic counted)`);
    }
    if (phaseB.failedRequests > 0) notes.push(`phase B: ${phaseB.failedRequests} request(s) failed`);
    if (phaseA.samples < 5 || phaseB.samples < 5) notes.push('a phase lasted under 5 s: the gauge means rest on few samples');

    const report = {
      benchmark: 'real-throughput',
      model: modelLabel,
      servedModel: MODEL,
      vllmVersion,
      tasks: taskIds.length,
      taskFile: path.relative(PROJECT_ROOT, TASK_FILE),
      concurrency: opts.concurrency,
      leafe: { horizon: LEAFE.horizon, budget: LEAFE.budget, maxDepth: LEAFE.maxDepth, maxBranches: LEAFE.maxBranches, reflectOnFailure: LEAFE.reflectOnFailure },
      sampling: { temperature: SAMPLING.temperature, maxTokens: SAMPLING.maxTokens },
      episodes: {
        solved: trees.filter((t) => t.success).length,
        budgetUsed: trees.reduce((n, t) => n + t.budget.used, 0),
        branches: trees.reduce((n, t) => n + t.branches.length, 0),
      },
      phaseA: roundAll(phaseA),
      phaseB: { ...roundAll(phaseB), sameContentAsJournal: sameContent },
      ratioTokensPerS: ratio === null ? null : round(ratio, 3),
      prefixCacheReset: resetA && resetB,
      notes,
      runDir: opts.keep ? runDir : null,
      vllmLog: opts.keep ? server.logFile : null,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(renderTable(report, phaseA, phaseB, sameContent));
    return 0;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (opts.keep) log(`run dir kept: ${runDir}`);
    else removeDir(runDir);
  }
}

function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v])) as T;
}

function renderTable(r: { model: string; tasks: number; concurrency: number; ratioTokensPerS: number | null; episodes: { solved: number; budgetUsed: number; branches: number }; notes: string[] }, a: PhaseReport, b: PhaseReport, same: number): string {
  const f = (x: number | null, d = 1) => (x === null ? 'n/a' : x.toFixed(d));
  const rows: Array<[string, string, string]> = [
    ['requests (act + reflect)', `${a.requests} (${a.actRequests} + ${a.reflectRequests})`, `${b.requests} (${b.actRequests} + ${b.reflectRequests})${b.failedRequests ? `, ${b.failedRequests} failed` : ''}`],
    ['requests seen by vLLM', f(a.serverRequests, 0), f(b.serverRequests, 0)],
    ['generated tokens (vLLM counter)', f(a.generatedTokens, 0), f(b.generatedTokens, 0)],
    ['completion tokens (journal / responses)', String(a.clientCompletionTokens), String(b.clientCompletionTokens)],
    ['mean completion tokens per request', f(a.meanCompletionTokens), f(b.meanCompletionTokens)],
    ['prompt tokens (of which prefix-cached)', `${f(a.promptTokens, 0)} (${f(a.promptTokensCached, 0)})`, `${f(b.promptTokens, 0)} (${f(b.promptTokensCached, 0)})`],
    ['wall time, s', f(a.wallS), f(b.wallS)],
    ['generated tokens/s', f(a.tokensPerS), f(b.tokensPerS)],
    ['mean running requests (1 s samples)', f(a.meanRunning, 2), f(b.meanRunning, 2)],
    ['mean waiting requests', f(a.meanWaiting, 2), f(b.meanWaiting, 2)],
    ['samples with >= 1 request running', a.busyShare === null ? 'n/a' : `${(a.busyShare * 100).toFixed(0)}% of ${a.samples}`, b.busyShare === null ? 'n/a' : `${(b.busyShare * 100).toFixed(0)}% of ${b.samples}`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max('A: leafe (Temporal)'.length, ...rows.map((x) => x[1].length));
  const line = (x: [string, string, string]) => `  ${x[0].padEnd(w0)}  ${x[1].padStart(w1)}  ${x[2]}`;
  return [
    `Inference-server throughput during explore — ${r.model}`,
    `${r.tasks} task(s) of examples/tasks/simple-functions.jsonl, concurrency ${r.concurrency}; horizon 2, budget 6, maxDepth 2, maxBranches 4, reflectOnFailure, temperature 0.7, maxTokens 256`,
    `episodes: ${r.episodes.solved} solved, ${r.episodes.budgetUsed} env steps, ${r.episodes.branches} branches; plain-client replies identical to leafe's: ${same}/${b.requests}`,
    '',
    line(['', 'A: leafe (Temporal)', 'B: plain openai client']),
    ...rows.map(line),
    '',
    `  ratio A/B generated tokens/s (${r.model}): ${r.ratioTokensPerS === null ? 'n/a' : r.ratioTokensPerS.toFixed(3)}`,
    ...r.notes.map((n) => `  note: ${n}`),
    '',
  ].join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`real-throughput: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
