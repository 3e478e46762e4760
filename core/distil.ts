/**
 * Distillation: exploration trees → SFT records (LEAFE §2 "Distil").
 *
 *   D_cf  (method 'leafe' only): for each branching event (branch with tau != null), the context
 *         h_τ rendered WITHOUT the experience note, and as target the revised action a′_τ
 *         (= branch.steps[τ-1]). Optionally only when the branch itself ended in success.
 *   D_reh: (h_t, a_t) for every step t of every successful branch (replayed prefix included,
 *         rendered without experience), then a seeded random fraction of them.
 *
 * Input texts must be resolved to strings first (`resolveTree`), so this module stays pure:
 * no Node imports, no I/O, deterministic given its inputs and seed.
 *
 * Decisions:
 * - Success rule for D_cf (`requireSuccess`, default true): the branch that re-did step τ must
 *   itself end in 'success'. A branch that rolled back again does not count even if a
 *   descendant later succeeded (its a′_τ then reappears in that descendant's replayed prefix,
 *   so it can still enter D_reh).
 * - Deduplication: records are keyed by the exact (prompt, completion) pair. The first one in
 *   tree → branch → step order is kept, cf before reh; the others are listed in its provenance
 *   `duplicates`. This removes replayed prefixes shared by several successful branches, and the
 *   reh copy of a cf pair (step τ of a successful branch is both).
 * - Rehearsal sample: round(fraction × candidates) with Math.round (.5 rounds up), chosen by a
 *   seeded Fisher–Yates shuffle of the candidates sorted by id, so it depends on the seed and
 *   the set of inputs, not their order. 'rft' defaults to fraction 1 (all successful steps).
 * - β: L = L_cf + β·L_reh read as a sum over samples, i.e. a reh sample weighs β relative to a cf
 *   sample. `weight` records that; `copies` (floor(β), plus one with probability frac(β)) is what
 *   trainers without per-sample weights get, by replication in the written files.
 * - No experience text anywhere in a prompt: prompts are re-rendered with experience = null,
 *   the note is kept in provenance only.
 */
import type { Text } from './text';
import type { BranchRecord, EpisodeTree, ReflectionRecord, StepRecord } from './tree';
import { renderAgentMessages, type ChatMessage } from './prompts';
import { createRandom, deriveSeed, hashString } from './random';
import { DEFAULT_DISTIL, DEFAULT_REHEARSAL_FRACTION, type DistilMethod } from './leafe-settings';

// ---------------------------------------------------------------------------------------------
// Resolved trees: the same shapes as core/tree.ts with step texts as plain strings.

export interface ResolvedStep extends Omit<StepRecord, 'action' | 'observation' | 'feedback'> {
  action: string;
  observation: string;
  feedback: string;
}

/** Reflections keep their raw completion as a Text: distillation never reads it. */
export interface ResolvedBranch extends Omit<BranchRecord, 'steps'> {
  steps: ResolvedStep[];
}

export interface ResolvedTree extends Omit<EpisodeTree, 'initialObservation' | 'branches'> {
  initialObservation: string;
  branches: ResolvedBranch[];
}

/** Resolves every step text and the initial observation (e.g. with `store.resolve`). */
export async function resolveTree(tree: EpisodeTree, resolve: (t: Text) => Promise<string>): Promise<ResolvedTree> {
  const branches: ResolvedBranch[] = [];
  for (const b of tree.branches) {
    const steps: ResolvedStep[] = [];
    for (const s of b.steps) {
      steps.push({ ...s, action: await resolve(s.action), observation: await resolve(s.observation), feedback: await resolve(s.feedback) });
    }
    branches.push({ ...b, steps });
  }
  return { ...tree, initialObservation: await resolve(tree.initialObservation), branches };
}

// ---------------------------------------------------------------------------------------------
// Inputs, options, outputs.

export interface DistilInput {
  tree: ResolvedTree;
  /** The task instructions the agent's system prompt was rendered with. */
  instructions: string;
  experimentId: string;
  iteration: number;
  episodeWorkflowId: string;
}

export type RecordKind = 'cf' | 'reh';

export interface DistilOptions {
  /** 'leafe': D_cf ∪ D_reh. 'rft': rejection fine-tuning baseline, D_reh only. */
  method: DistilMethod;
  /** A branching event counts for D_cf only when its branch ended in success. Default: DEFAULT_DISTIL. */
  requireSuccess?: boolean;
  /** Fraction of deduplicated successful steps kept for D_reh. Default: DEFAULT_REHEARSAL_FRACTION (leafe 0.2, rft 1). */
  rehearsalFraction?: number;
  /** Loss weight of a D_reh sample relative to a D_cf sample (L = L_cf + β·L_reh). Default: DEFAULT_DISTIL. */
  beta?: number;
  /** Seed for the rehearsal sample and the β replication. */
  seed: number;
}

export interface SftRecord {
  /** `<kind>-<16 hex>`: hash of the record's provenance (experiment, iteration, episode, branch, step, kind). */
  id: string;
  kind: RecordKind;
  prompt: ChatMessage[];
  completion: [{ role: 'assistant'; content: string }];
  /** Intended per-sample loss weight: 1 for cf, β for reh. */
  weight: number;
  /**
   * How many times the record is written to trainer files. Trainers without per-sample weights
   * (TRL, LLaMA-Factory) get β by replication: floor(β) copies plus one more with probability
   * frac(β) (seeded per record). cf records always have 1 copy.
   */
  copies: number;
}

export interface RecordSource {
  episodeWorkflowId: string;
  branchId: string;
  step: number;
  kind: RecordKind;
}

export interface RecordProvenance {
  recordId: string;
  experimentId: string;
  iteration: number;
  taskId: string;
  episodeWorkflowId: string;
  branchId: string;
  branchWorkflowId: string;
  /** 1-based step t whose action is the completion (τ for cf). */
  step: number;
  kind: RecordKind;
  parentBranchId: string | null;
  /** τ of the branch the record comes from (null for a root branch). */
  tau: number | null;
  /** The branch's experience note e: in the prompt the model saw, deliberately NOT in the training prompt. */
  experience: string | null;
  /** cf: feedback of the parent's step the reflection reacted to (its last step when asked). */
  reflectionFeedback: string | null;
  /** cf: the parent's original action a_τ that the reflection rejected. */
  originalAction: string | null;
  /** cf: 'interval' | 'failure', the reason the reflection was asked. */
  reflectionTrigger: ReflectionRecord['trigger'] | null;
  branchOutcome: BranchRecord['outcome'];
  weight: number;
  copies: number;
  /** Other places the identical (prompt, completion) pair occurred; dropped in favour of this record. */
  duplicates: RecordSource[];
}

export interface DistilStats {
  method: DistilMethod;
  requireSuccess: boolean;
  rehearsalFraction: number;
  beta: number;
  seed: number;
  trees: number;
  tasks: number;
  tasksCovered: number;
  branches: number;
  successfulBranches: number;
  /** Branches with tau != null. */
  branchingEvents: number;
  cfSkippedUnsuccessful: number;
  /** Branches whose trajectory stops before τ (no revised action recorded). */
  cfSkippedNoAction: number;
  /** Branching events whose revised action a′_τ equals the original a_τ (no correction to learn). */
  cfSkippedUnchanged: number;
  cfDuplicates: number;
  /** Deduplicated successful steps before sampling (pairs equal to a cf record excluded). */
  rehCandidates: number;
  rehDuplicates: number;
  records: { cf: number; reh: number; total: number };
  /** Lines in the trainer files after β replication. */
  trainingLines: { cf: number; reh: number; total: number };
  meanPromptChars: { cf: number; reh: number; all: number };
  meanPromptMessages: number;
  meanCompletionChars: number;
}

export interface DistilResult {
  /** cf records first, then reh, each in tree/branch/step order. */
  records: SftRecord[];
  /** provenance[i] describes records[i]. */
  provenance: RecordProvenance[];
  stats: DistilStats;
}

// ---------------------------------------------------------------------------------------------

/** 64-bit id from two FNV-1a lanes: pure (no node:crypto) and collision-safe at dataset sizes. */
function hash64(s: string): string {
  const a = hashString(s).toString(16).padStart(8, '0');
  const b = hashString(`\u0001leafe\u0001${s}`).toString(16).padStart(8, '0');
  return a + b;
}

export function recordId(p: { experimentId: string; iteration: number; episodeWorkflowId: string; branchId: string; step: number; kind: RecordKind }): string {
  return `${p.kind}-${hash64(JSON.stringify([p.experimentId, p.iteration, p.episodeWorkflowId, p.branchId, p.step, p.kind]))}`;
}

function resolveOptions(o: DistilOptions): Required<DistilOptions> {
  if (o.method !== 'leafe' && o.method !== 'rft') {
    throw new Error(`distil: method = ${JSON.stringify(o.method)}, expected 'leafe' or 'rft'`);
  }
  const rehearsalFraction = o.rehearsalFraction ?? DEFAULT_REHEARSAL_FRACTION[o.method];
  if (!(typeof rehearsalFraction === 'number' && rehearsalFraction >= 0 && rehearsalFraction <= 1)) {
    throw new Error(`distil: rehearsalFraction = ${String(rehearsalFraction)}, expected a number in [0, 1]`);
  }
  const beta = o.beta ?? DEFAULT_DISTIL.beta;
  if (!(typeof beta === 'number' && Number.isFinite(beta) && beta >= 0)) {
    throw new Error(`distil: beta = ${String(beta)}, expected a finite number >= 0`);
  }
  if (!Number.isInteger(o.seed)) throw new Error(`distil: seed = ${String(o.seed)}, expected an integer`);
  const requireSuccess = o.requireSuccess ?? DEFAULT_DISTIL.requireSuccess;
  if (typeof requireSuccess !== 'boolean') throw new Error(`distil: requireSuccess = ${String(requireSuccess)}, expected a boolean`);
  return { method: o.method, requireSuccess, rehearsalFraction, beta, seed: o.seed };
}

/** h_t for the action at step t (1-based): the steps before t, never the experience note. */
function contextBefore(input: DistilInput, branch: ResolvedBranch, t: number): ChatMessage[] {
  return renderAgentMessages({
    taskId: input.tree.taskId,
    instructions: input.instructions,
    initialObservation: input.tree.initialObservation,
    steps: branch.steps.slice(0, t - 1).map((s) => ({ action: s.action, observation: s.observation, feedback: s.feedback })),
    experience: null,
  });
}

/** The parent's reflection that produced this branch: valid, same τ and same experience. */
function producingReflection(parent: ResolvedBranch | undefined, branch: ResolvedBranch): ReflectionRecord | undefined {
  if (!parent) return undefined;
  const matches = parent.reflections.filter((r) => r.valid && r.step === branch.tau && r.experience === branch.experience);
  return matches[matches.length - 1];
}

interface Candidate {
  record: SftRecord;
  provenance: RecordProvenance;
  key: string;
}

function checkInputs(inputs: DistilInput[]): void {
  if (!Array.isArray(inputs)) throw new Error(`distil: inputs = ${String(inputs)}, expected an array of DistilInput`);
  inputs.forEach((input, i) => {
    const bad = (field: string, value: unknown, expected: string) =>
      new Error(`distil: inputs[${i}].${field} = ${JSON.stringify(value)}, expected ${expected}`);
    if (typeof input.experimentId !== 'string' || input.experimentId === '') throw bad('experimentId', input.experimentId, 'a non-empty string');
    if (!Number.isInteger(input.iteration) || input.iteration < 0) throw bad('iteration', input.iteration, 'an integer >= 0');
    if (typeof input.episodeWorkflowId !== 'string' || input.episodeWorkflowId === '') throw bad('episodeWorkflowId', input.episodeWorkflowId, 'a non-empty string');
    if (typeof input.instructions !== 'string') throw bad('instructions', input.instructions, 'a string');
    if (typeof input.tree?.initialObservation !== 'string') {
      throw bad('tree.initialObservation', input.tree?.initialObservation, 'a resolved string (call resolveTree first)');
    }
    for (const b of input.tree.branches) {
      const s = b.steps.find((x) => typeof x.action !== 'string' || typeof x.observation !== 'string' || typeof x.feedback !== 'string');
      if (s) throw bad(`tree.branches[${b.id}].steps[t=${s.t}]`, s.action, 'resolved string texts (call resolveTree first)');
    }
  });
}

export function distil(inputs: DistilInput[], options: DistilOptions): DistilResult {
  const opts = resolveOptions(options);
  checkInputs(inputs);
  const stats: DistilStats = {
    method: opts.method, requireSuccess: opts.requireSuccess, rehearsalFraction: opts.rehearsalFraction, beta: opts.beta, seed: opts.seed,
    trees: inputs.length, tasks: new Set(inputs.map((i) => i.tree.taskId)).size, tasksCovered: 0,
    branches: 0, successfulBranches: 0, branchingEvents: 0, cfSkippedUnsuccessful: 0, cfSkippedNoAction: 0, cfSkippedUnchanged: 0, cfDuplicates: 0,
    rehCandidates: 0, rehDuplicates: 0,
    records: { cf: 0, reh: 0, total: 0 }, trainingLines: { cf: 0, reh: 0, total: 0 },
    meanPromptChars: { cf: 0, reh: 0, all: 0 }, meanPromptMessages: 0, meanCompletionChars: 0,
  };

  const make = (input: DistilInput, branch: ResolvedBranch, t: number, kind: RecordKind, extra: Partial<RecordProvenance>): Candidate => {
    const prompt = contextBefore(input, branch, t);
    const completion: SftRecord['completion'] = [{ role: 'assistant', content: branch.steps[t - 1].action }];
    const id = recordId({ experimentId: input.experimentId, iteration: input.iteration, episodeWorkflowId: input.episodeWorkflowId, branchId: branch.id, step: t, kind });
    const weight = kind === 'cf' ? 1 : opts.beta;
    return {
      key: JSON.stringify([prompt, completion]),
      record: { id, kind, prompt, completion, weight, copies: 1 },
      provenance: {
        recordId: id, experimentId: input.experimentId, iteration: input.iteration, taskId: input.tree.taskId,
        episodeWorkflowId: input.episodeWorkflowId, branchId: branch.id, branchWorkflowId: branch.workflowId, step: t, kind,
        parentBranchId: branch.parent, tau: branch.tau, experience: branch.experience,
        reflectionFeedback: null, originalAction: null, reflectionTrigger: null, branchOutcome: branch.outcome,
        weight, copies: 1, duplicates: [], ...extra,
      },
    };
  };
  const sourceOf = (c: Candidate): RecordSource => ({
    episodeWorkflowId: c.provenance.episodeWorkflowId, branchId: c.provenance.branchId, step: c.provenance.step, kind: c.provenance.kind,
  });

  // D_cf. Identical (prompt, completion) pairs are kept once (first in tree/branch order); the
  // others are listed in its provenance `duplicates`, so nothing is lost for audit.
  const cf: Candidate[] = [];
  const byKey = new Map<string, Candidate>();
  for (const input of inputs) {
    const branchById = new Map(input.tree.branches.map((b) => [b.id, b]));
    for (const branch of input.tree.branches) {
      stats.branches++;
      if (branch.outcome === 'success') stats.successfulBranches++;
      if (branch.tau === null) continue;
      stats.branchingEvents++;
      if (opts.method !== 'leafe') continue;
      const tau = branch.tau;
      if (opts.requireSuccess && branch.outcome !== 'success') { stats.cfSkippedUnsuccessful++; continue; }
      if (!Number.isInteger(tau) || tau < 1 || branch.steps.length < tau) { stats.cfSkippedNoAction++; continue; }
      const parent = branch.parent === null ? undefined : branchById.get(branch.parent);
      // Not a correction: the branch re-did step τ with the same action (it may still be rehearsed).
      if (parent?.steps[tau - 1] && parent.steps[tau - 1].action.trim() === branch.steps[tau - 1].action.trim()) { stats.cfSkippedUnchanged++; continue; }
      const reflection = producingReflection(parent, branch);
      const reactedTo = reflection && parent ? parent.steps[reflection.afterStep - 1] : undefined;
      const c = make(input, branch, tau, 'cf', {
        reflectionFeedback: reactedTo?.feedback ?? null,
        originalAction: parent?.steps[tau - 1]?.action ?? null,
        reflectionTrigger: reflection?.trigger ?? null,
      });
      const seen = byKey.get(c.key);
      if (seen) { seen.provenance.duplicates.push(sourceOf(c)); stats.cfDuplicates++; continue; }
      byKey.set(c.key, c);
      cf.push(c);
    }
  }

  // D_reh candidates: every step of every successful branch. A pair equal to a cf record (the
  // branch's own step τ) stays a cf record; replayed prefixes shared by several successful
  // branches appear once.
  const pool: Candidate[] = [];
  for (const input of inputs) {
    for (const branch of input.tree.branches) {
      if (branch.outcome !== 'success') continue;
      for (let t = 1; t <= branch.steps.length; t++) {
        const c = make(input, branch, t, 'reh', {});
        const seen = byKey.get(c.key);
        if (seen) { seen.provenance.duplicates.push(sourceOf(c)); stats.rehDuplicates++; continue; }
        byKey.set(c.key, c);
        pool.push(c);
      }
    }
  }
  stats.rehCandidates = pool.length;

  // Sample round(fraction × |pool|) candidates (Math.round: .5 rounds up). Shuffling the pool
  // sorted by id makes the choice independent of input order; output keeps tree order.
  const take = Math.round(opts.rehearsalFraction * pool.length);
  const sorted = [...pool].sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
  const rand = createRandom(deriveSeed(opts.seed, 'rehearsal'));
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j], sorted[i]];
  }
  const chosen = new Set(sorted.slice(0, take).map((c) => c.record.id));
  const reh = pool.filter((c) => chosen.has(c.record.id));

  // β by replication for trainers without per-sample weights.
  for (const c of reh) {
    const whole = Math.floor(opts.beta);
    const u = createRandom(deriveSeed(opts.seed, 'beta', c.record.id))();
    const copies = whole + (u < opts.beta - whole ? 1 : 0);
    c.record.copies = copies;
    c.provenance.copies = copies;
  }

  const all = [...cf, ...reh];
  const chars = (m: ChatMessage[]): number => m.reduce((n, x) => n + x.content.length, 0);
  const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  stats.records = { cf: cf.length, reh: reh.length, total: all.length };
  const lines = (cs: Candidate[]): number => cs.reduce((n, c) => n + c.record.copies, 0);
  stats.trainingLines = { cf: lines(cf), reh: lines(reh), total: lines(all) };
  stats.meanPromptChars = {
    cf: mean(cf.map((c) => chars(c.record.prompt))),
    reh: mean(reh.map((c) => chars(c.record.prompt))),
    all: mean(all.map((c) => chars(c.record.prompt))),
  };
  stats.meanPromptMessages = mean(all.map((c) => c.record.prompt.length));
  stats.meanCompletionChars = mean(all.map((c) => c.record.completion[0].content.length));
  stats.tasksCovered = new Set(all.map((c) => c.provenance.taskId)).size;

  return { records: all.map((c) => c.record), provenance: all.map((c) => c.provenance), stats };
}
