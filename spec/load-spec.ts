import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import type { EnvSpec } from '../core/env-spec';
import type { ExperimentConfig, Method, TrainerConfig } from '../contract/experiment-config';
import { DEFAULT_LEAFE_SETTINGS, DEFAULT_SIM_LATENCY_MS } from '../core/leafe-settings';
import { defaultKs } from '../core/pass-at-k';
import { DEFAULT_BASE_SKILL, type SimSkill } from '../contract/sim-skill';
import { providerFor } from '../envs/registry';
import { experimentSpecSchema, type ExperimentSpec } from './experiment-spec-schema';
import { simTrainer } from './sim-trainer';
import { defaultDevice, isRealModelName, realEnvLocation, REAL_MODELS, type RealEnv } from '../runtime/real-model-env';
import { defaultRunDir } from '../infra/paths';

/** A spec problem: names the path, the value found and what was expected. Nothing has started. */
export class SpecError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: invalid experiment spec\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SpecError';
  }
}

export interface LoadedSpec {
  file: string;
  spec: ExperimentSpec;
  methods: Method[];
  /** The resolved config shared by every method of the study (identical budgets and seeds). */
  config: ExperimentConfig;
  /** The spec asks for the simulator: the caller starts it and sets inference/deploy base URLs. */
  simulator: ExperimentSpec['simulator'] & { enabled: boolean };
  /** inference.kind "vllm": the caller starts this server (its URL is already in the config). */
  localVllm: LocalVllmSpec | null;
  /**
   * trainer.kind "sim": the trainer as the spec sets it, what identifies it in the experiment's
   * fingerprint (its built command holds this machine's paths: node, the checkout).
   */
  trainerIdentity: Record<string, unknown> | null;
  /** The real-model environment (`leafe setup real`) the spec runs on, provisioned or not; null if none. */
  realEnv: RealEnv | null;
}

export interface LocalVllmSpec {
  env: RealEnv;
  servedName: string;
  modelDir: string;
  port: number;
  baseUrl: string;
  maxModelLen: number;
  maxLoraRank: number;
  kvCacheGiB: number;
}

const SIM_URL_PLACEHOLDER = 'http://simulator.invalid/v1';

function valueAt(root: unknown, p: PropertyKey[]): unknown {
  let v = root;
  for (const k of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function formatIssues(raw: unknown, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; expected only the documented fields (see docs/experiment-spec.schema.json)`;
    // zod says "Invalid input: expected number, received string"; we show the value ourselves.
    const expected = issue.message.replace(/^Invalid (input|option): /, '').replace(/^expected /, '').replace(/, received \w+$/, '');
    return `${where}: got ${describe(valueAt(raw, issue.path))}; expected ${expected}`;
  });
}

function resolveRelative(base: string, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(base, p);
}

async function selectTasks(env: EnvSpec, sel: ExperimentSpec['tasks']['train'], field: string, available: string[]): Promise<string[]> {
  if ('ids' in sel) {
    const missing = sel.ids.filter((id) => !available.includes(id));
    if (missing.length) throw new Error(`tasks.${field}.ids: ${describe(missing)} not found in the ${env.kind} tasks; expected ids such as ${describe(available.slice(0, 3))}`);
    return sel.ids;
  }
  if (sel.offset + sel.limit > available.length) {
    throw new Error(`tasks.${field}: offset ${sel.offset} + limit ${sel.limit} exceeds the ${available.length} available ${env.kind} tasks`);
  }
  return available.slice(sel.offset, sel.offset + sel.limit);
}

function loadTrainerTemplate(file: string, field: string): { command: string[]; defaults: Record<string, string | number> } {
  if (!existsSync(file)) throw new Error(`${field}: ${describe(file)} does not exist; expected a trainer template YAML (e.g. examples/trainers/trl-sft.yaml)`);
  const doc = YAML.parse(readFileSync(file, 'utf8')) as { command?: unknown; defaults?: unknown };
  if (!Array.isArray(doc?.command) || !doc.command.every((a) => typeof a === 'string')) {
    throw new Error(`${field}: ${describe(file)} has no \`command\` list of strings; expected an argv template`);
  }
  return { command: doc.command as string[], defaults: (doc.defaults ?? {}) as Record<string, string | number> };
}

/** Reads, validates and resolves a spec. Every problem is reported before anything starts. */
export async function loadSpec(file: string, overrides: { runDir?: string } = {}): Promise<LoadedSpec> {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new SpecError(file, [`spec file ${describe(file)} does not exist; expected a YAML or JSON experiment spec`]);
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(abs, 'utf8'));
  } catch (err) {
    throw new SpecError(file, [`not valid YAML/JSON: ${(err as Error).message}`]);
  }
  const parsed = experimentSpecSchema.safeParse(raw);
  if (!parsed.success) throw new SpecError(file, formatIssues(raw, parsed.error));
  const spec = parsed.data;
  const dir = path.dirname(abs);

  try {
    let env: EnvSpec = spec.env;
    if (env.kind === 'code') {
      const tasks = resolveRelative(dir, env.tasks);
      if (!existsSync(tasks)) throw new Error(`env.tasks: ${describe(env.tasks)} does not exist (resolved to ${tasks}); expected a JSONL or JSONL.gz task file`);
      env = { ...env, tasks };
    } else if (env.kind === 'sokoban' && env.levels) {
      const levels = resolveRelative(dir, env.levels);
      if (!existsSync(levels)) throw new Error(`env.levels: ${describe(env.levels)} does not exist (resolved to ${levels}); expected an XSB/Boxoban level file`);
      env = { ...env, levels };
    }
    const provider = providerFor(env);
    const available = await provider.listTasks();
    const trainTasks = await selectTasks(env, spec.tasks.train, 'train', available);
    const evalTasks = await selectTasks(env, spec.tasks.eval, 'eval', available);
    const overlap = evalTasks.filter((id) => trainTasks.includes(id));
    if (overlap.length) throw new Error(`tasks.eval: shares ${overlap.length} task(s) with tasks.train (${describe(overlap.slice(0, 3))}); expected disjoint train and eval splits`);

    const leafe = { ...DEFAULT_LEAFE_SETTINGS, ...spec.leafe };
    const samples = spec.evaluation.samples;
    const ks = spec.evaluation.ks ?? defaultKs(samples);
    const badK = ks.find((k) => k > samples);
    if (badK !== undefined) throw new Error(`evaluation.ks: got ${badK}; expected every k ≤ evaluation.samples (${samples})`);

    let localVllm: LocalVllmSpec | null = null;
    let realEnv: RealEnv | null = null;
    // Only where the environment lives: whether it is provisioned is checked where it is used
    // (`leafe run` before anything starts, vLLM's start, the trainer's), never while reading a spec.
    const realEnvFor = (field: string, device = defaultDevice()): RealEnv => {
      try {
        realEnv ??= realEnvLocation(device);
      } catch (err) {
        throw new Error(`${field}: ${(err as Error).message}`, { cause: err });
      }
      return realEnv;
    };
    if (spec.inference.kind === 'vllm') {
      const inf = spec.inference;
      if (!isRealModelName(inf.model)) throw new Error(`inference.model: got ${describe(inf.model)}; expected a model leafe provisions (${Object.keys(REAL_MODELS).join(', ')})`);
      const env = realEnvFor('inference', inf.device);
      const baseUrl = `http://127.0.0.1:${inf.port}/v1`;
      localVllm = { env, servedName: inf.model, modelDir: env.modelDir(inf.model), port: inf.port, baseUrl, maxModelLen: inf.maxModelLen, maxLoraRank: inf.maxLoraRank, kvCacheGiB: inf.kvCacheGiB };
    }

    let trainer: TrainerConfig;
    let trainerIdentity: Record<string, unknown> | null = null;
    if (spec.trainer.kind === 'sim') {
      const baseSkill: SimSkill = { ...DEFAULT_BASE_SKILL, ...spec.simulator?.skill };
      trainer = simTrainer(spec.trainer, baseSkill);
      trainerIdentity = { ...spec.trainer, baseSkill };
    } else {
      const t = spec.trainer;
      const template = t.template ? loadTrainerTemplate(resolveRelative(dir, t.template), 'trainer.template') : { command: t.command!, defaults: {} };
      let env = t.env;
      let baseModel = t.baseModel;
      if (t.python === 'leafe-real') {
        const real = realEnvFor('trainer.python', spec.inference.kind === 'vllm' ? spec.inference.device : undefined);
        // accelerate sets OMP_NUM_THREADS=1 unless it is set: use every core on CPU.
        env = { PATH: `${real.bin}${path.delimiter}${process.env.PATH ?? ''}`, VIRTUAL_ENV: real.venv, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', OMP_NUM_THREADS: String(os.availableParallelism()), TOKENIZERS_PARALLELISM: 'false', ...t.env };
        if (isRealModelName(baseModel)) baseModel = real.modelDir(baseModel);
      } else if (isRealModelName(baseModel)) {
        throw new Error(`trainer.baseModel: got ${describe(baseModel)}, a model leafe provisions; expected trainer.python: leafe-real with it (or a model path/id your trainer can load)`);
      }
      trainer = { kind: 'command', command: template.command, baseModel, hyperparameters: { ...template.defaults, ...t.hyperparameters }, env, cwd: t.cwd ? resolveRelative(dir, t.cwd) : undefined };
    }
    const sim = spec.inference.kind === 'sim';
    if (spec.deploy.kind === 'sim' && !sim) throw new Error(`deploy.kind: got "sim"; expected "vllm-lora" when inference.kind is ${describe(spec.inference.kind)} (the simulator is only there with inference.kind "sim")`);
    if (spec.deploy.kind === 'vllm-lora' && !spec.deploy.baseUrl && !localVllm) throw new Error('deploy.baseUrl: got nothing; expected the vLLM server URL (it defaults to the local server only when inference.kind is "vllm")');
    const { kind: _kind, ...sampling } = spec.inference;
    const inference = spec.inference.kind === 'openai'
      ? { ...sampling, baseUrl: spec.inference.baseUrl, model: spec.inference.model, apiKeyEnv: spec.inference.apiKeyEnv }
      : localVllm
        ? { temperature: sampling.temperature, topP: sampling.topP, maxTokens: sampling.maxTokens, timeoutMs: sampling.timeoutMs, requestsFrom: sampling.requestsFrom, baseUrl: localVllm.baseUrl, model: localVllm.servedName }
        : { ...sampling, baseUrl: SIM_URL_PLACEHOLDER, model: 'sim-base' };
    const config: ExperimentConfig = {
      name: spec.name,
      env,
      trainTasks,
      evalTasks,
      inference,
      leafe,
      distil: spec.distil,
      trainer,
      deploy: spec.deploy.kind === 'vllm-lora' ? { kind: 'vllm-lora', baseUrl: spec.deploy.baseUrl ?? localVllm!.baseUrl, apiKeyEnv: spec.deploy.apiKeyEnv } : { kind: 'sim', baseUrl: SIM_URL_PLACEHOLDER },
      evaluation: { samples, ks, horizon: spec.evaluation.horizon ?? leafe.horizon },
      iterations: spec.iterations,
      seed: spec.seed,
      concurrency: spec.concurrency,
      runDir: path.resolve(overrides.runDir ?? (spec.runDir ? resolveRelative(dir, spec.runDir) : defaultRunDir())),
      timeouts: spec.timeouts,
    };
    return { file: abs, spec, methods: [...new Set(spec.methods)], config, simulator: { latencyMs: DEFAULT_SIM_LATENCY_MS, ...spec.simulator, enabled: sim }, localVllm, trainerIdentity, realEnv };
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(file, [(err as Error).message]);
  }
}

/** Points inference and deploy at a running simulator. */
export function withSimulator(config: ExperimentConfig, simUrl: string): ExperimentConfig {
  return {
    ...config,
    inference: config.inference.baseUrl === SIM_URL_PLACEHOLDER ? { ...config.inference, baseUrl: simUrl } : config.inference,
    deploy: config.deploy.kind === 'sim' ? { kind: 'sim', baseUrl: simUrl } : config.deploy,
  };
}
