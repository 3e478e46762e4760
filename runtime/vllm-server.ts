import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './dev-server';
import { assertRealEnvReady, type RealEnv } from './real-model-env';

/**
 * A local vLLM OpenAI-compatible server that leafe starts and stops for a study (the user's own
 * vLLM on a GPU box is the other case: then leafe only talks to it). Runtime LoRA loading is on,
 * so deploy can hot-load adapters. If the process dies, it is restarted and the LoRA adapters it
 * had loaded are loaded again, so the experiment's adapter names keep answering: they are passed
 * as `--lora-modules`, which vLLM loads before it answers at all. (Loading them with
 * POST /v1/load_lora_adapter after /health answered left a gap in which a retried request got
 * 404 "model does not exist", which is not retried: the evaluation through the adapter failed.)
 */
export interface VllmServerOptions {
  env: RealEnv;
  /** HF model folder. */
  modelDir: string;
  /** The name requests use (`model` in chat completions). */
  servedName: string;
  host?: string;
  port?: number;
  logFile: string;
  maxLoraRank?: number;
  maxModelLen?: number;
  /** GiB of KV cache on CPU (VLLM_CPU_KVCACHE_SPACE). */
  kvCacheGiB?: number;
  startTimeoutMs?: number;
  /** Restarts after an unexpected exit before giving up (the run then shows inference failures). */
  maxRestarts?: number;
  log?: (line: string) => void;
}

export interface VllmServer {
  baseUrl: string;
  servedName: string;
  logFile: string;
  pid(): number | undefined;
  /** Adapters seen loaded (name -> path): re-loaded after a restart. */
  adapters(): Map<string, string>;
  stop(): Promise<void>;
}

export class VllmStartError extends Error {}

function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Environment for the vLLM process: CPU builds need their thread and memory settings (docs/real-model.md). */
export function vllmProcessEnv(env: RealEnv, kvCacheGiB: number): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'True', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', VLLM_NO_USAGE_STATS: '1', DO_NOT_TRACK: '1', PATH: `${env.bin}${path.delimiter}${process.env.PATH ?? ''}` };
  if (env.device === 'cuda') return base;
  const cores = os.availableParallelism();
  const iomp = path.join(env.venv, 'lib', 'libiomp5.so');
  return {
    ...base,
    VLLM_CPU_KVCACHE_SPACE: String(kvCacheGiB),
    VLLM_CPU_OMP_THREADS_BIND: `0-${cores - 1}`,
    VLLM_CPU_NUM_OF_RESERVED_CPU: '0',
    ...(existsSync(iomp) ? { LD_PRELOAD: iomp } : {}),
  };
}

export function vllmArgs(o: { modelDir: string; servedName: string; host: string; port: number; maxLoraRank: number; maxModelLen: number; device: RealEnv['device']; loraModules?: Map<string, string> }): string[] {
  const lora = [...(o.loraModules ?? new Map<string, string>())].map(([name, dir]) => `${name}=${dir}`);
  return [
    '-m', 'vllm.entrypoints.openai.api_server',
    '--model', o.modelDir,
    '--served-model-name', o.servedName,
    '--host', o.host,
    '--port', String(o.port),
    '--enable-lora',
    '--max-lora-rank', String(o.maxLoraRank),
    '--max-model-len', String(o.maxModelLen),
    // bf16 falls back to slow kernels on CPUs without AVX512-BF16; GPUs want bf16.
    '--dtype', o.device === 'cpu' ? 'float32' : 'bfloat16',
    '--seed', '0',
    // Adapters to load before the server answers (a restart: see startVllmServer).
    ...(lora.length ? ['--lora-modules', ...lora] : []),
  ];
}

async function healthy(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/v1$/, '')}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** What the server lists in `GET /v1/models` (its model and each loaded LoRA adapter); [] when it does not answer. */
export async function listServedModels(baseUrl: string): Promise<Array<{ id: string; root?: string; parent?: string | null }>> {
  try {
    const res = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return [];
    return ((await res.json()) as { data?: Array<{ id: string; root?: string; parent?: string | null }> }).data ?? [];
  } catch {
    return [];
  }
}

export async function startVllmServer(options: VllmServerOptions): Promise<VllmServer> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const baseUrl = `http://${host}:${port}/v1`;
  const startTimeoutMs = options.startTimeoutMs ?? 600_000;
  const maxRestarts = options.maxRestarts ?? 3;
  assertRealEnvReady(options.env);
  if (!existsSync(path.join(options.modelDir, 'config.json'))) {
    throw new VllmStartError(`vLLM model folder ${options.modelDir} has no config.json; expected an HF model folder (run \`npx leafe setup real\`)`);
  }
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const argsWith = (loraModules: Map<string, string>) =>
    vllmArgs({ modelDir: options.modelDir, servedName: options.servedName, host, port, maxLoraRank: options.maxLoraRank ?? 16, maxModelLen: options.maxModelLen ?? 2048, device: options.env.device, loraModules });
  const procEnv = vllmProcessEnv(options.env, options.kvCacheGiB ?? 2);
  const adapters = new Map<string, string>();
  let child: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;
  let watcher: NodeJS.Timeout | null = null;

  const launch = async (): Promise<void> => {
    const out = openSync(options.logFile, 'a');
    // Adapters seen loaded before (a restart); one whose folder is gone would stop vLLM from starting.
    const reload = new Map([...adapters].filter(([name, dir]) => {
      const there = existsSync(path.join(dir, 'adapter_config.json'));
      if (!there) log(`leafe: not re-loading LoRA adapter ${name}: ${dir} has no adapter_config.json any more`);
      return there;
    }));
    const proc = spawn(options.env.python, argsWith(reload), { env: procEnv, stdio: ['ignore', out, out], detached: true });
    child = proc;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    proc.once('exit', (code, signal) => {
      exited = { code, signal };
    });
    const t0 = Date.now();
    log(`leafe: starting vLLM (${options.env.device}) for ${options.servedName} on ${baseUrl}; log ${options.logFile}`);
    while (!(await healthy(baseUrl))) {
      if (exited) {
        const e = exited as { code: number | null; signal: NodeJS.Signals | null };
        throw new VllmStartError(`vLLM exited during start (code ${e.code}, signal ${e.signal}); last lines of ${options.logFile}:\n${tail(options.logFile)}`);
      }
      if (Date.now() - t0 > startTimeoutMs) {
        killGroup(proc, 'SIGKILL');
        throw new VllmStartError(`vLLM did not answer ${baseUrl.replace(/\/v1$/, '')}/health within ${Math.round(startTimeoutMs / 1000)} s; last lines of ${options.logFile}:\n${tail(options.logFile)}`);
      }
      await sleep(1000);
    }
    log(`leafe: vLLM ready in ${Math.round((Date.now() - t0) / 1000)} s (model ${options.servedName}${reload.size ? `; LoRA adapters re-loaded before it answered: ${[...reload.keys()].join(', ')}` : ''})`);
    proc.once('exit', (code, signal) => {
      if (stopping) return;
      if (restarts >= maxRestarts) {
        log(`leafe: vLLM exited (code ${code}, signal ${signal}) and was restarted ${restarts} times already; not restarting (inference requests will fail and be retried; see ${options.logFile})`);
        return;
      }
      restarts += 1;
      log(`leafe: vLLM exited unexpectedly (code ${code}, signal ${signal}); restarting (${restarts}/${maxRestarts})`);
      launch().catch((err: unknown) => log(`leafe: vLLM restart failed: ${err instanceof Error ? err.message : String(err)}`));
    });
  };

  await launch();
  // Remember which adapters are loaded (deploy loads them from activities, possibly elsewhere).
  // Every second: an adapter loaded less than that before vLLM dies is not re-loaded.
  watcher = setInterval(() => {
    void listServedModels(baseUrl).then((models) => {
      for (const m of models) if (m.parent && m.root && m.id !== options.servedName) adapters.set(m.id, m.root);
    });
  }, 1000);
  watcher.unref();

  return {
    baseUrl,
    servedName: options.servedName,
    logFile: options.logFile,
    pid: () => child?.pid,
    adapters: () => new Map(adapters),
    async stop() {
      stopping = true;
      if (watcher) clearInterval(watcher);
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      killGroup(proc, 'SIGTERM');
      const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (proc.pid) process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
