import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distil, recordId, resolveTree, type DistilInput, type ResolvedBranch, type ResolvedStep, type ResolvedTree } from '../core/distil';
import { renderAgentMessages } from '../core/prompts';
import { EXPERIENCE_MARKER } from '../core/templates';
import { NO_USAGE, type EpisodeTree } from '../core/tree';
import { ArtifactStore } from '../infra/artifact-store';
import { writeDatasets } from '../activities/distil/write-datasets';

const INSTRUCTIONS = 'Push the box onto the goal.';
const LESSON = 'avoid the wall on the left';
const LESSON2 = 'start by moving up';

function step(t: number, action: string, feedback: string, opts: Partial<ResolvedStep> = {}): ResolvedStep {
  return { t, action, observation: `obs after ${action}`, feedback, reward: 0, done: false, success: false, replayed: false, ...opts };
}

function branch(b: Partial<ResolvedBranch> & Pick<ResolvedBranch, 'id' | 'steps' | 'outcome'>): ResolvedBranch {
  return {
    workflowId: `ep-1/${b.id}`, parent: null, depth: 0, tau: null, experience: null, reflections: [],
    newSteps: b.steps.filter((s) => !s.replayed).length, replayedSteps: b.steps.filter((s) => s.replayed).length,
    reopens: 0, usage: NO_USAGE, ...b,
  };
}

/**
 * Root b0 fails at step 2; its reflection picks τ=2 → b1 replays step 1, revises step 2 and
 * succeeds. A second reflection (interval, τ=1) → b2 revises step 1 and fails.
 */
function treeOne(): ResolvedTree {
  const b0 = branch({
    id: 'b0',
    steps: [step(1, 'A1', 'ok 1'), step(2, 'A2-bad', 'FAIL: box stuck at wall')],
    reflections: [
      { afterStep: 1, step: 1, experience: LESSON2, raw: { inline: '{}' }, valid: true, trigger: 'interval' },
      { afterStep: 2, step: 2, experience: LESSON, raw: { inline: '{}' }, valid: true, trigger: 'failure' },
    ],
    outcome: 'rollback',
    rollback: { tau: 2, experience: LESSON },
  });
  const b1 = branch({
    id: 'b1', parent: 'b0', depth: 1, tau: 2, experience: LESSON,
    steps: [step(1, 'A1', 'ok 1', { replayed: true }), step(2, 'A2-good', 'ok 2'), step(3, 'A3', 'solved', { done: true, success: true, reward: 1 })],
    outcome: 'success',
  });
  const b2 = branch({
    id: 'b2', parent: 'b0', depth: 1, tau: 1, experience: LESSON2,
    steps: [step(1, 'A1-alt', 'FAIL: no move', { done: true })],
    outcome: 'done',
  });
  return {
    taskId: 'task-1', episodeId: 'ep-1', initialObservation: 'a 5x5 grid', success: true,
    budget: { used: 4, limit: 20, replayed: 1 }, branches: [b0, b1, b2], usage: NO_USAGE,
  };
}

/** A root that succeeds in 10 steps: 10 rehearsal candidates. */
function treeTwo(): ResolvedTree {
  const steps = Array.from({ length: 10 }, (_, i) => step(i + 1, `B${i + 1}`, `ok ${i + 1}`, i === 9 ? { done: true, success: true } : {}));
  return {
    taskId: 'task-2', episodeId: 'ep-2', initialObservation: 'another grid', success: true,
    budget: { used: 10, limit: 20, replayed: 0 }, usage: NO_USAGE,
    branches: [branch({ id: 'b0', workflowId: 'ep-2/b0', steps, outcome: 'success' })],
  };
}

function inputs(): DistilInput[] {
  return [
    { tree: treeOne(), instructions: INSTRUCTIONS, experimentId: 'exp-a', iteration: 0, episodeWorkflowId: 'ep-1' },
    { tree: treeTwo(), instructions: INSTRUCTIONS, experimentId: 'exp-a', iteration: 0, episodeWorkflowId: 'ep-2' },
  ];
}

const hPrefix = (taskId: string, obs: string, steps: ResolvedStep[]) =>
  renderAgentMessages({ taskId, instructions: INSTRUCTIONS, initialObservation: obs, steps, experience: null });

function allPromptText(r: { prompt: { content: string }[] }[]): string {
  return r.map((x) => x.prompt.map((m) => m.content).join('\n')).join('\n');
}

const dirs: string[] = [];
async function tmpDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'leafe-distil-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('distil: D_cf', () => {
  it('skips a branching event whose revised action equals the original one (no correction to learn)', () => {
    const tree = treeOne();
    tree.branches[1].steps[1] = { ...tree.branches[1].steps[1], action: 'A2-bad' };
    const { records, stats } = distil([{ tree, instructions: INSTRUCTIONS, experimentId: 'exp-a', iteration: 0, episodeWorkflowId: 'ep-1' }], { method: 'leafe', seed: 7, rehearsalFraction: 1 });
    expect(records.filter((r) => r.kind === 'cf')).toHaveLength(0);
    expect(stats.cfSkippedUnchanged).toBe(1);
    // The successful trajectory is still rehearsed, that step included.
    expect(records.some((r) => r.kind === 'reh' && r.completion[0].content === 'A2-bad')).toBe(true);
  });

  it('builds exactly the counterfactual record of the successful branch, without experience', () => {
    const { records, provenance, stats } = distil(inputs(), { method: 'leafe', seed: 7 });
    const cf = records.filter((r) => r.kind === 'cf');
    expect(cf).toHaveLength(1);
    const t1 = treeOne();
    expect(cf[0]).toEqual({
      id: recordId({ experimentId: 'exp-a', iteration: 0, episodeWorkflowId: 'ep-1', branchId: 'b1', step: 2, kind: 'cf' }),
      kind: 'cf',
      prompt: hPrefix('task-1', 'a 5x5 grid', [t1.branches[1].steps[0]]),
      completion: [{ role: 'assistant', content: 'A2-good' }],
      weight: 1,
      copies: 1,
    });
    // The prompt is h_2: system, task, A1, feedback of step 1. Nothing of the reflection.
    expect(cf[0].prompt.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(cf[0].prompt[2].content).toBe('A1');
    expect(cf[0].prompt[3].content).toContain('ok 1');
    const p = provenance[records.indexOf(cf[0])];
    expect(p).toMatchObject({
      kind: 'cf', branchId: 'b1', branchWorkflowId: 'ep-1/b1', step: 2, tau: 2, parentBranchId: 'b0',
      experience: LESSON, reflectionFeedback: 'FAIL: box stuck at wall', originalAction: 'A2-bad', reflectionTrigger: 'failure',
      taskId: 'task-1', experimentId: 'exp-a', iteration: 0, episodeWorkflowId: 'ep-1', branchOutcome: 'success',
    });
    expect(stats.branchingEvents).toBe(2);
    expect(stats.cfSkippedUnsuccessful).toBe(1);
  });

  it('counts the failed branch too when requireSuccess is off', () => {
    const { records, provenance } = distil(inputs(), { method: 'leafe', seed: 7, requireSuccess: false });
    const cf = records.filter((r) => r.kind === 'cf');
    expect(cf.map((r) => r.completion[0].content)).toEqual(['A2-good', 'A1-alt']);
    expect(cf[1].prompt).toEqual(hPrefix('task-1', 'a 5x5 grid', []));
    expect(provenance[1]).toMatchObject({ branchId: 'b2', tau: 1, experience: LESSON2, reflectionFeedback: 'ok 1', originalAction: 'A1', reflectionTrigger: 'interval', branchOutcome: 'done' });
  });

  it('never puts experience text in any prompt', () => {
    for (const requireSuccess of [true, false]) {
      const { records } = distil(inputs(), { method: 'leafe', seed: 1, requireSuccess, rehearsalFraction: 1 });
      const text = allPromptText(records);
      expect(text).not.toContain(LESSON);
      expect(text).not.toContain(LESSON2);
      expect(text).not.toContain(EXPERIENCE_MARKER);
    }
  });
});

describe('distil: D_reh', () => {
  it('samples round(fraction × candidates) from deduplicated successful steps', () => {
    // Candidates: b1 steps 1 and 3 (step 2 is the cf record) + 10 steps of ep-2 = 12.
    const cases: Array<[number, number]> = [[0, 0], [0.2, 2], [0.25, 3], [0.5, 6], [1, 12]];
    for (const [fraction, expected] of cases) {
      const { records, stats } = distil(inputs(), { method: 'leafe', seed: 3, rehearsalFraction: fraction });
      expect(stats.rehCandidates).toBe(12);
      expect(records.filter((r) => r.kind === 'reh')).toHaveLength(expected);
    }
    const { stats } = distil(inputs(), { method: 'leafe', seed: 3 });
    expect(stats.rehearsalFraction).toBe(0.2);
    expect(stats.records).toEqual({ cf: 1, reh: 2, total: 3 });
  });

  it('reh records are (h_t, a_t) of successful trajectories, replayed prefix included', () => {
    const { records, provenance } = distil(inputs(), { method: 'leafe', seed: 3, rehearsalFraction: 1 });
    const b1Reh = provenance.filter((p) => p.kind === 'reh' && p.episodeWorkflowId === 'ep-1');
    expect(b1Reh.map((p) => p.step)).toEqual([1, 3]);
    const r3 = records[provenance.indexOf(b1Reh[1])];
    const t1 = treeOne();
    expect(r3.prompt).toEqual(hPrefix('task-1', 'a 5x5 grid', t1.branches[1].steps.slice(0, 2)));
    expect(r3.completion[0].content).toBe('A3');
    // The cf record absorbed the identical reh pair of step 2.
    const cfProv = provenance.find((p) => p.kind === 'cf')!;
    expect(cfProv.duplicates).toEqual([{ episodeWorkflowId: 'ep-1', branchId: 'b1', step: 2, kind: 'reh' }]);
  });

  it('deduplicates replayed prefixes shared by two successful branches', () => {
    const t = treeOne();
    const twin = { ...t.branches[1], id: 'b3', workflowId: 'ep-1/b3' };
    t.branches.push(twin);
    const { records, provenance, stats } = distil(
      [{ tree: t, instructions: INSTRUCTIONS, experimentId: 'exp-a', iteration: 0, episodeWorkflowId: 'ep-1' }],
      { method: 'leafe', seed: 3, rehearsalFraction: 1 },
    );
    expect(records.map((r) => `${r.kind}:${r.completion[0].content}`)).toEqual(['cf:A2-good', 'reh:A1', 'reh:A3']);
    expect(stats.cfDuplicates).toBe(1);
    expect(stats.rehDuplicates).toBe(4); // b1 step 2 (= the cf pair) and b3 steps 1, 2, 3
    const keys = new Set(records.map((r) => JSON.stringify([r.prompt, r.completion])));
    expect(keys.size).toBe(records.length);
    expect(provenance[0].duplicates.map((d) => `${d.branchId}/${d.step}/${d.kind}`)).toEqual(['b3/2/cf', 'b1/2/reh', 'b3/2/reh']);
  });

  it('rft produces reh records only, from all successful steps by default', () => {
    const { records, stats } = distil(inputs(), { method: 'rft', seed: 3 });
    expect(records.every((r) => r.kind === 'reh')).toBe(true);
    expect(stats.records).toEqual({ cf: 0, reh: 13, total: 13 });
  });

  it('β gives reh weight and replication copies', () => {
    const two = distil(inputs(), { method: 'leafe', seed: 3, rehearsalFraction: 1, beta: 2 });
    expect(two.records.filter((r) => r.kind === 'reh').every((r) => r.weight === 2 && r.copies === 2)).toBe(true);
    expect(two.stats.trainingLines).toEqual({ cf: 1, reh: 24, total: 25 });
    const half = distil(inputs(), { method: 'leafe', seed: 3, rehearsalFraction: 1, beta: 0.5 });
    const copies = half.records.filter((r) => r.kind === 'reh').map((r) => r.copies);
    expect(copies.every((c) => c === 0 || c === 1)).toBe(true);
    expect(half.records.find((r) => r.kind === 'cf')!.copies).toBe(1);
  });
});

describe('distil: provenance, validation, determinism', () => {
  it('has complete provenance for every record', () => {
    const { records, provenance } = distil(inputs(), { method: 'leafe', seed: 5, requireSuccess: false, rehearsalFraction: 1 });
    expect(provenance).toHaveLength(records.length);
    const fields = ['recordId', 'experimentId', 'iteration', 'taskId', 'episodeWorkflowId', 'branchId', 'branchWorkflowId', 'step', 'kind', 'parentBranchId', 'tau', 'experience', 'reflectionFeedback'];
    provenance.forEach((p, i) => {
      for (const f of fields) expect(p, `${records[i].id}.${f}`).toHaveProperty(f);
      for (const v of Object.values(p)) expect(v).not.toBeUndefined();
      expect(p.recordId).toBe(records[i].id);
      expect(p.kind).toBe(records[i].kind);
      if (p.kind === 'cf') {
        expect(p.tau).toBe(p.step);
        expect(p.experience).not.toBeNull();
        expect(p.reflectionFeedback).not.toBeNull();
      }
    });
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  });

  it('rejects bad options naming the field', () => {
    expect(() => distil(inputs(), { method: 'grpo' as never, seed: 1 })).toThrow(/method = "grpo"/);
    expect(() => distil(inputs(), { method: 'leafe', seed: 1, rehearsalFraction: 1.5 })).toThrow(/rehearsalFraction = 1.5/);
    expect(() => distil(inputs(), { method: 'leafe', seed: 1, beta: -1 })).toThrow(/beta = -1/);
    expect(() => distil(inputs(), { method: 'leafe', seed: 0.5 })).toThrow(/seed = 0.5/);
    const bad = inputs();
    bad[1].iteration = -1;
    expect(() => distil(bad, { method: 'leafe', seed: 1 })).toThrow(/inputs\[1\]\.iteration = -1/);
    const unresolved = inputs();
    (unresolved[0].tree.branches[1].steps[1] as unknown as { action: unknown }).action = { inline: 'A2-good' };
    expect(() => distil(unresolved, { method: 'leafe', seed: 1 })).toThrow(/branches\[b1\]\.steps\[t=2\].*resolveTree/);
  });

  it('writes the same bytes for the same seed, and different samples for other seeds', async () => {
    const write = async (seed: number) => {
      const dir = await tmpDir();
      const w = await writeDatasets(dir, distil(inputs(), { method: 'leafe', seed, beta: 1.5 }));
      const files = await Promise.all([w.promptCompletionFile, w.messagesFile, w.provenanceFile, w.statsFile].map((f) => readFile(f, 'utf8')));
      return { w, files };
    };
    const a = await write(11);
    const b = await write(11);
    expect(b.files).toEqual(a.files);
    expect(b.w.sha256).toBe(a.w.sha256);
    const shas = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) shas.add((await write(seed)).w.sha256);
    expect(shas.size).toBeGreaterThan(1);
    // Input order does not change which records are sampled.
    const reversed = distil([...inputs()].reverse(), { method: 'leafe', seed: 11, beta: 1.5 });
    const forward = distil(inputs(), { method: 'leafe', seed: 11, beta: 1.5 });
    expect(new Set(reversed.records.map((r) => r.id))).toEqual(new Set(forward.records.map((r) => r.id)));
  });
});

describe('writeDatasets', () => {
  it('writes TRL prompt-completion, OpenAI messages, provenance and stats atomically', async () => {
    const dir = await tmpDir();
    const result = distil(inputs(), { method: 'leafe', seed: 9, rehearsalFraction: 0.5, beta: 2 });
    const w = await writeDatasets(dir, result);
    expect((await readdir(dir)).sort()).toEqual(['dataset_info.json', 'provenance.jsonl', 'stats.json', 'train.messages.jsonl', 'train.prompt-completion.jsonl', 'trl']);
    const pcText = await readFile(w.promptCompletionFile, 'utf8');
    expect(await readdir(w.trlDatasetDir)).toEqual(['train.jsonl']);
    expect(await readFile(path.join(w.trlDatasetDir, 'train.jsonl'), 'utf8')).toBe(pcText);
    const info = JSON.parse(await readFile(w.llamaFactoryInfoFile, 'utf8'));
    expect(info.leafe_train).toMatchObject({ file_name: 'train.messages.jsonl', formatting: 'sharegpt', columns: { messages: 'messages' } });
    // Rewriting (a retried activity) replaces the files in place.
    await writeDatasets(dir, result);
    expect(await readFile(path.join(w.trlDatasetDir, 'train.jsonl'), 'utf8')).toBe(pcText);
    expect(w.sha256).toBe(createHash('sha256').update(pcText).digest('hex'));
    const pc = pcText.trim().split('\n').map((l) => JSON.parse(l));
    expect(pc).toHaveLength(result.stats.trainingLines.total);
    expect(w.lines).toBe(pc.length);
    expect(Object.keys(pc[0])).toEqual(['id', 'prompt', 'completion', 'kind']);
    expect(pc.filter((l) => l.kind === 'reh')).toHaveLength(2 * result.stats.records.reh);
    expect(new Set(pc.map((l) => l.id)).size).toBe(pc.length);
    const msgs = (await readFile(w.messagesFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(msgs[0]).toEqual({ id: pc[0].id, messages: [...pc[0].prompt, ...pc[0].completion] });
    const prov = (await readFile(w.provenanceFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(prov.map((p) => p.recordId)).toEqual(result.records.map((r) => r.id));
    for (const l of pc) expect(prov.some((p) => l.id.startsWith(p.recordId))).toBe(true);
    expect(JSON.parse(await readFile(w.statsFile, 'utf8'))).toEqual(result.stats);
  });
});

describe('resolveTree', () => {
  it('resolves artifact refs through the store', async () => {
    const store = new ArtifactStore(await tmpDir(), 8);
    const t = treeOne();
    const raw: EpisodeTree = {
      ...t,
      initialObservation: await store.toText(t.initialObservation),
      branches: await Promise.all(t.branches.map(async (b) => ({
        ...b,
        steps: await Promise.all(b.steps.map(async (s) => ({ ...s, action: await store.toText(s.action), observation: await store.toText(s.observation), feedback: await store.toText(s.feedback) }))),
      }))),
    };
    expect(JSON.stringify(raw)).toContain('"ref"');
    expect(await resolveTree(raw, (x) => store.resolve(x))).toEqual(t);
  });
});
