import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRandom, deriveSeed } from '../core/random';
import type { SimSkill } from '../contract/sim-skill';

/**
 * The simulated GPU trainer: turns SFT data into a new SimSkill ("the fine-tune") and writes it
 * as an adapter directory the simulator server can load. Deterministic given its inputs.
 */

export const ADAPTER_FILE = 'sim-adapter.json';
export const CHECKPOINT_STATE_FILE = 'trainer_state.json';

export interface RecordCounts {
  cf: number;
  reh: number;
  /** Records without a recognisable kind: counted, they do not change the skill. */
  other: number;
}

export interface SimAdapterFile {
  format: 'leafe-sim-adapter/1';
  skill: SimSkill;
  baseSkill: SimSkill;
  training: { records: RecordCounts; epochs: number; totalSteps: number; finalLoss: number; dataSha256: string };
}

const SKILL_KEYS = ['firstTry', 'fixWithFeedback', 'fixWithExperience', 'reflectionAccuracy'] as const;

/** Validates a SimSkill; errors name the field, the value and what is expected. */
export function parseSimSkill(value: unknown, where: string): SimSkill {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: expected an object with ${SKILL_KEYS.join(', ')}; got ${JSON.stringify(value)}`);
  const v = value as Record<string, unknown>;
  for (const k of SKILL_KEYS) {
    const x = v[k];
    if (typeof x !== 'number' || !(x >= 0 && x <= 1)) throw new Error(`${where}.${k}: expected a number in [0, 1]; got ${JSON.stringify(x)}`);
  }
  return { firstTry: v.firstTry as number, fixWithFeedback: v.fixWithFeedback as number, fixWithExperience: v.fixWithExperience as number, reflectionAccuracy: v.reflectionAccuracy as number };
}

/** Reads `<dir>/sim-adapter.json`; throws ENOENT when it is missing. */
export async function readSimAdapter(dir: string): Promise<SimAdapterFile> {
  const file = join(dir, ADAPTER_FILE);
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not valid JSON`);
  }
  const skill = parseSimSkill((json as { skill?: unknown }).skill, `${file} skill`);
  return { ...(json as SimAdapterFile), skill };
}

/** Reads the kind of a training record: top-level `kind`, or in a provenance/metadata side field. */
function kindOf(record: Record<string, unknown>): string | undefined {
  for (const holder of [record, record.provenance, record.metadata]) {
    const k = typeof holder === 'object' && holder !== null ? (holder as { kind?: unknown }).kind : undefined;
    if (typeof k === 'string') return k;
  }
  return undefined;
}

/** Counts records by kind over JSONL texts; a bad line throws naming file and line. */
export function countRecords(files: Array<{ name: string; text: string }>): RecordCounts {
  const counts: RecordCounts = { cf: 0, reh: 0, other: 0 };
  for (const { name, text } of files) {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        throw new TrainingDataError(`${name}:${i + 1}: expected one JSON record per line; got ${JSON.stringify(line.slice(0, 80))}`);
      }
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new TrainingDataError(`${name}:${i + 1}: expected a JSON object`);
      const kind = kindOf(rec as Record<string, unknown>);
      if (kind === 'cf' || kind === 'reh') counts[kind]++;
      else counts.other++;
    });
  }
  return counts;
}

const SKILL_CAP = 0.97;
/** Effective samples (records × epochs, epochs capped at 3) for the gap to 1 to shrink by 1/e. */
const SCALE = { cfFix: 60, cfFirstTry: 150, rehFirstTry: 250 } as const;

/** p moved toward 1 with diminishing returns: 1 - (1-p)·exp(-n/scale), never above the cap or below p. */
function grow(p: number, n: number, scale: number): number {
  return Math.max(p, Math.min(SKILL_CAP, 1 - (1 - p) * Math.exp(-n / scale)));
}

/**
 * The simulated fine-tune: counterfactual records teach recovery (fix with feedback / experience,
 * a little first-try), rehearsal records reinforce first tries a little. Reflection is not trained.
 */
export function deriveSkill(base: SimSkill, counts: RecordCounts, epochs: number): SimSkill {
  const e = Math.min(Math.max(epochs, 0), 3);
  const cf = counts.cf * e;
  const reh = counts.reh * e;
  return {
    firstTry: grow(grow(base.firstTry, cf, SCALE.cfFirstTry), reh, SCALE.rehFirstTry),
    fixWithFeedback: grow(base.fixWithFeedback, cf, SCALE.cfFix),
    fixWithExperience: grow(base.fixWithExperience, cf, SCALE.cfFix),
    reflectionAccuracy: base.reflectionAccuracy,
  };
}

export interface SimTrainOptions {
  dataFiles: string[];
  outputDir: string;
  baseSkill: SimSkill;
  epochs: number;
  stepsPerEpoch: number;
  stepMs: number;
  saveSteps: number;
  /** 'auto' = newest checkpoint in outputDir (if any); a path = that checkpoint; undefined = fresh. */
  resumeFrom?: string;
  /** Simulated crash right after saving a checkpoint at this step, unless a checkpoint at or past it already exists. */
  crashAtStep?: number;
  log: (line: string) => void;
}

export interface CheckpointState {
  global_step: number;
  max_steps: number;
  epoch: number;
  loss: number;
  data_sha256: string;
}

export async function newestCheckpoint(outputDir: string): Promise<{ dir: string; step: number } | undefined> {
  let entries: string[];
  try {
    entries = await readdir(outputDir);
  } catch {
    return undefined;
  }
  const steps = entries.map((e) => /^checkpoint-(\d+)$/.exec(e)).filter((m) => m !== null).map((m) => Number(m[1]));
  if (steps.length === 0) return undefined;
  const step = Math.max(...steps);
  return { dir: join(outputDir, `checkpoint-${step}`), step };
}

export async function readCheckpoint(dir: string): Promise<CheckpointState> {
  return JSON.parse(await readFile(join(dir, CHECKPOINT_STATE_FILE), 'utf8')) as CheckpointState;
}

/** A loss curve that depends only on (data, step): resumed runs print the same numbers. */
function lossAt(dataSha: string, step: number, total: number): number {
  const noise = createRandom(deriveSeed(dataSha, step))() - 0.5;
  return Math.round((0.25 + 1.6 * Math.exp((-3 * step) / total) + 0.06 * noise) * 10000) / 10000;
}

/** Learning rate: 1e-6 peak (the paper's), linear decay. */
const lrAt = (step: number, total: number) => Number((1e-6 * (1 - step / total)).toPrecision(4));

/** Runs the simulated training; exits are the CLI's business, this only throws. */
export async function runSimTraining(o: SimTrainOptions): Promise<SimAdapterFile> {
  const texts = await Promise.all(o.dataFiles.map(async (name) => ({ name, text: await readFile(name, 'utf8') })));
  const hash = createHash('sha256');
  for (const t of texts) hash.update(t.text);
  const dataSha = hash.digest('hex');
  const counts = countRecords(texts);
  const totalSteps = o.epochs * o.stepsPerEpoch;
  o.log(`sim-train: ${counts.cf} cf + ${counts.reh} reh records (${counts.other} other), ${o.epochs} epochs, ${totalSteps} steps`);

  let start = 0;
  const newest = await newestCheckpoint(o.outputDir);
  if (o.resumeFrom !== undefined) {
    const ckpt = o.resumeFrom === 'auto' ? newest?.dir : o.resumeFrom;
    if (ckpt) {
      const state = await readCheckpoint(ckpt);
      if (state.data_sha256 !== dataSha) throw new TrainingDataError(`checkpoint ${ckpt} was trained on different data; refusing to resume`);
      start = state.global_step;
      o.log(`resumed from checkpoint-${start}`);
    }
  }
  const crashArmed = o.crashAtStep !== undefined && !(newest && newest.step >= o.crashAtStep);

  await mkdir(o.outputDir, { recursive: true });
  let loss = start > 0 ? lossAt(dataSha, start, totalSteps) : lossAt(dataSha, 0, totalSteps);
  for (let step = start + 1; step <= totalSteps; step++) {
    if (o.stepMs > 0) await new Promise((r) => setTimeout(r, o.stepMs));
    loss = lossAt(dataSha, step, totalSteps);
    const epoch = Math.round((step / o.stepsPerEpoch) * 100) / 100;
    o.log(`{'loss': ${loss}, 'grad_norm': ${(loss * 2.1).toFixed(4)}, 'learning_rate': ${lrAt(step, totalSteps)}, 'epoch': ${epoch}}`);
    o.log(`step ${step}/${totalSteps}`);
    // The simulated crash comes right after a checkpoint save, so a retry resumes past it.
    const crashing = crashArmed && step === o.crashAtStep;
    if (step % o.saveSteps === 0 || step === totalSteps || crashing) {
      const state: CheckpointState = { global_step: step, max_steps: totalSteps, epoch, loss, data_sha256: dataSha };
      // Written to a temp dir then renamed, so a crash never leaves a half checkpoint.
      const tmp = join(o.outputDir, `.tmp-checkpoint-${step}`);
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      await writeFile(join(tmp, CHECKPOINT_STATE_FILE), JSON.stringify(state, null, 2));
      await rm(join(o.outputDir, `checkpoint-${step}`), { recursive: true, force: true });
      await rename(tmp, join(o.outputDir, `checkpoint-${step}`));
      o.log(`Saving model checkpoint to ${join(o.outputDir, `checkpoint-${step}`)}`);
    }
    if (crashing) throw new SimulatedCrash(step);
  }

  const adapter: SimAdapterFile = {
    format: 'leafe-sim-adapter/1',
    skill: deriveSkill(o.baseSkill, counts, o.epochs),
    baseSkill: o.baseSkill,
    training: { records: counts, epochs: o.epochs, totalSteps, finalLoss: loss, dataSha256: dataSha },
  };
  const tmpFile = join(o.outputDir, `${ADAPTER_FILE}.tmp`);
  await writeFile(tmpFile, JSON.stringify(adapter, null, 2) + '\n');
  await rename(tmpFile, join(o.outputDir, ADAPTER_FILE));
  o.log(`{'train_runtime': ${((totalSteps - start) * o.stepMs) / 1000}, 'train_loss': ${loss}, 'epoch': ${o.epochs}}`);
  return adapter;
}

export class SimulatedCrash extends Error {
  constructor(readonly step: number) {
    super(`simulated crash at step ${step}`);
  }
}

/** Unusable training data or checkpoint: a configuration error, retrying cannot help. */
export class TrainingDataError extends Error {}
