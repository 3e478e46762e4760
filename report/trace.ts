/**
 * Trace of one SFT record back to its cause: record → experiment/iteration → episode → branch
 * → (cf) the parent's reflection that created the branch and the environment feedback it
 * reacted to, (reh) the step's own feedback. Everything is read from the run directory
 * (datasets, stage results, artifact store), so a trace works after the server forgot the run.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RecordProvenance } from '../core/distil';
import type { ChatMessage } from '../core/prompts';
import type { BranchRecord, EpisodeTree, ReflectionRecord } from '../core/tree';
import type { ExperimentSummary } from '../contract/experiment-config';
import type { ArtifactStore } from '../infra/artifact-store';
import { PROMPT_COMPLETION_FILE, PROVENANCE_FILE } from '../infra/dataset-files';
import type { EpisodeSummary } from '../contract/episode-summary';

export interface FoundRecord {
  provenance: RecordProvenance;
  prompt: ChatMessage[];
  completion: string;
  datasetDir: string;
}

export interface TraceStep {
  branchId: string;
  branchWorkflowId: string;
  t: number;
  action: string;
  /** The environment's feedback text for that step, in full. */
  feedback: string;
}

export interface TraceChain {
  record: { id: string; kind: RecordProvenance['kind']; weight: number; copies: number; promptMessages: number; promptPreview: string; completion: string; datasetDir: string };
  experiment: { experimentId: string; iteration: number; taskId: string; link: string | null };
  episode: { workflowId: string; link: string | null; treeRef: string; success: boolean };
  branch: { id: string; workflowId: string; link: string | null; outcome: string; depth: number; tau: number | null; experience: string | null; step: number };
  /** cf: the parent branch's reflection that asked for this branch. */
  reflection: null | {
    parentBranchId: string;
    parentWorkflowId: string;
    parentLink: string | null;
    afterStep: number;
    tau: number | null;
    experience: string | null;
    trigger: ReflectionRecord['trigger'];
    raw: string;
    /** The parent's original action a_τ that the reflection rejected. */
    originalAction: string | null;
  };
  /** cf: the parent's step the reflection reacted to (its last step when asked); reh: the record's own step. */
  feedbackStep: TraceStep | null;
  duplicates: RecordProvenance['duplicates'];
}

const PREVIEW_CHARS = 160;

function clip(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/** Every dataset directory of the run: `<runDir>/experiments/<id>/it<n>/dataset`. */
export async function datasetDirs(runDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const exp of await listDirs(path.join(runDir, 'experiments'))) {
    for (const it of await listDirs(exp)) if (/^it\d+$/.test(path.basename(it))) out.push(path.join(it, 'dataset'));
  }
  return out.sort();
}

async function readLines(file: string): Promise<string[] | null> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  } catch {
    return null;
  }
}

/** Finds a record by id (a replicated line id `<id>#<n>` is accepted) in the run's datasets. */
export async function findRecord(runDir: string, id: string): Promise<FoundRecord> {
  const recordId = id.replace(/#\d+$/, '');
  if (!/^(cf|reh)-[0-9a-f]{16}$/.test(recordId)) throw new Error(`record id: ${JSON.stringify(id)}; expected cf-<16 hex> or reh-<16 hex> (the "id" of a line in train.prompt-completion.jsonl)`);
  const dirs = await datasetDirs(runDir);
  for (const dir of dirs) {
    const provenance = (await readLines(path.join(dir, PROVENANCE_FILE))) ?? [];
    const line = provenance.find((l) => l.includes(`"recordId":"${recordId}"`));
    if (!line) continue;
    const p = JSON.parse(line) as RecordProvenance;
    const pcLine = ((await readLines(path.join(dir, PROMPT_COMPLETION_FILE))) ?? []).find((l) => l.includes(`"id":"${recordId}"`));
    const pc = pcLine ? (JSON.parse(pcLine) as { prompt: ChatMessage[]; completion: Array<{ content: string }> }) : null;
    return { provenance: p, prompt: pc?.prompt ?? [], completion: pc?.completion[0]?.content ?? '', datasetDir: dir };
  }
  throw new Error(`record id: ${JSON.stringify(id)} is in none of the ${dirs.length} dataset(s) under ${path.join(runDir, 'experiments')}; expected a record of this run directory (--run-dir)`);
}

/** Same file naming as the stage results of activities/store/store-activities.ts. */
function stageFile(runDir: string, key: string): string {
  return path.join(runDir, 'stages', `${key.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The tree ref of an experiment's episode: from the explore stage result, else from summary.json. */
export async function findTreeRef(runDir: string, store: ArtifactStore, p: RecordProvenance): Promise<string> {
  const explored = await readJson<EpisodeSummary[]>(stageFile(runDir, `${p.experimentId}/it${p.iteration}/explore`));
  const hit = explored?.find((e) => e.episodeId === p.episodeWorkflowId);
  if (hit) return hit.treeRef;
  const summary = await readJson<ExperimentSummary>(path.join(runDir, 'experiments', p.experimentId, 'summary.json'));
  const treesRef = summary?.iterations.find((i) => i.iteration === p.iteration)?.explore?.treesRef;
  if (treesRef) {
    const trees = JSON.parse(await store.getText(treesRef)) as Array<{ episodeId: string; treeRef: string }>;
    const t = trees.find((x) => x.episodeId === p.episodeWorkflowId);
    if (t) return t.treeRef;
  }
  throw new Error(`episode ${p.episodeWorkflowId}: no tree ref in ${stageFile(runDir, `${p.experimentId}/it${p.iteration}/explore`)} or experiments/${p.experimentId}/summary.json; expected the run directory the experiment ran with`);
}

/** The parent's reflection that produced a branch: valid, same τ and experience, the last such (as distillation reads it). */
export function producingReflection(parent: BranchRecord, branch: BranchRecord): ReflectionRecord | undefined {
  return parent.reflections.filter((r) => r.valid && r.step === branch.tau && r.experience === branch.experience).at(-1);
}

export async function traceRecord(found: FoundRecord, store: ArtifactStore, runDir: string, link: (workflowId: string) => string | null): Promise<TraceChain> {
  const p = found.provenance;
  const treeRef = await findTreeRef(runDir, store, p);
  const tree = JSON.parse(await store.getText(treeRef)) as EpisodeTree;
  const branch = tree.branches.find((b) => b.id === p.branchId);
  if (!branch) throw new Error(`record ${p.recordId}: branch ${p.branchId} not in the tree of ${p.episodeWorkflowId} (branches ${tree.branches.map((b) => b.id).join(', ')}); the dataset and the tree disagree`);
  const stepOf = async (b: BranchRecord, t: number): Promise<TraceStep | null> => {
    const s = b.steps[t - 1];
    return s ? { branchId: b.id, branchWorkflowId: b.workflowId, t, action: await store.resolve(s.action), feedback: await store.resolve(s.feedback) } : null;
  };

  let reflection: TraceChain['reflection'] = null;
  let feedbackStep: TraceStep | null = null;
  if (p.kind === 'cf') {
    const parent = tree.branches.find((b) => b.id === branch.parent);
    const r = parent ? producingReflection(parent, branch) : undefined;
    if (parent && r) {
      reflection = {
        parentBranchId: parent.id,
        parentWorkflowId: parent.workflowId,
        parentLink: link(parent.workflowId),
        afterStep: r.afterStep,
        tau: r.step,
        experience: r.experience,
        trigger: r.trigger,
        raw: await store.resolve(r.raw),
        originalAction: branch.tau !== null && parent.steps[branch.tau - 1] ? await store.resolve(parent.steps[branch.tau - 1].action) : null,
      };
      feedbackStep = await stepOf(parent, r.afterStep);
    }
  } else {
    feedbackStep = await stepOf(branch, p.step);
  }
  const lastUser = [...found.prompt].reverse().find((m) => m.role === 'user')?.content ?? '';
  return {
    record: { id: p.recordId, kind: p.kind, weight: p.weight, copies: p.copies, promptMessages: found.prompt.length, promptPreview: clip(lastUser, PREVIEW_CHARS), completion: found.completion, datasetDir: found.datasetDir },
    experiment: { experimentId: p.experimentId, iteration: p.iteration, taskId: p.taskId, link: link(p.experimentId) },
    episode: { workflowId: p.episodeWorkflowId, link: link(p.episodeWorkflowId), treeRef, success: tree.success },
    branch: { id: branch.id, workflowId: branch.workflowId, link: link(branch.workflowId), outcome: branch.outcome, depth: branch.depth, tau: branch.tau, experience: branch.experience, step: p.step },
    reflection,
    feedbackStep,
    duplicates: p.duplicates,
  };
}

function indent(text: string, pad: string): string {
  return text.split('\n').map((l) => `${pad}${l}`).join('\n');
}

const ui = (link: string | null, pad: string) => (link ? [`${pad}Web UI: ${link}`] : []);

export function renderTrace(c: TraceChain): string {
  const lines = [
    `record ${c.record.id}  (${c.record.kind}, weight ${c.record.weight}, ${c.record.copies} cop${c.record.copies === 1 ? 'y' : 'ies'})  ${c.record.datasetDir}`,
    `  prompt (${c.record.promptMessages} messages), last user message: ${c.record.promptPreview}`,
    `  completion: ${JSON.stringify(c.record.completion)}`,
    `└─ experiment ${c.experiment.experimentId}  iteration ${c.experiment.iteration}  task ${c.experiment.taskId}`,
    ...ui(c.experiment.link, '     '),
    `   └─ episode ${c.episode.workflowId}  (${c.episode.success ? 'solved' : 'not solved'}; tree ${c.episode.treeRef})`,
    ...ui(c.episode.link, '        '),
    `      └─ branch ${c.branch.id}  ${c.branch.workflowId}  outcome ${c.branch.outcome}, depth ${c.branch.depth}${c.branch.tau !== null ? `, τ=${c.branch.tau}` : ''}; record = its step t=${c.branch.step}`,
    ...ui(c.branch.link, '           '),
  ];
  if (c.record.kind === 'cf') {
    const r = c.reflection;
    if (!r) lines.push('         └─ (no valid reflection of the parent matches this branch: the tree has no record of what created it)');
    else {
      lines.push(
        `         └─ reflection of parent ${r.parentBranchId} (${r.parentWorkflowId}) after step ${r.afterStep}, trigger ${r.trigger}`,
        ...ui(r.parentLink, '              '),
        `              τ = ${r.tau}`,
        `              experience: ${JSON.stringify(r.experience)}`,
        `              rejected action a_τ: ${JSON.stringify(r.originalAction)}`,
        `              raw reflection: ${clip(r.raw, 400)}`,
      );
    }
  }
  const s = c.feedbackStep;
  if (s) {
    const what = c.record.kind === 'cf' ? `ENVIRONMENT FEEDBACK the reflection reacted to (${s.branchId} step ${s.t}, action ${JSON.stringify(s.action)})` : `ENVIRONMENT FEEDBACK of the step (${s.branchId} step ${s.t}, action ${JSON.stringify(s.action)})`;
    lines.push(`            └─ ${what}:`, indent(s.feedback, '                 '));
  }
  if (c.duplicates.length) lines.push(`duplicates dropped in favour of this record: ${c.duplicates.map((d) => `${d.episodeWorkflowId}/${d.branchId}@${d.step} (${d.kind})`).join(', ')}`);
  return lines.join('\n');
}
