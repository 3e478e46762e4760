import { previewOf } from '../core/text';
import type { BranchRecord, EpisodeTree } from '../core/tree';

/** The compact JSON form of a tree that `leafe explore --json` prints. */
export function treeSummary(tree: EpisodeTree) {
  return {
    taskId: tree.taskId,
    episodeId: tree.episodeId,
    success: tree.success,
    budget: tree.budget,
    usage: tree.usage,
    branches: tree.branches.map((b) => ({
      id: b.id,
      workflowId: b.workflowId,
      parent: b.parent,
      depth: b.depth,
      tau: b.tau,
      experience: b.experience,
      outcome: b.outcome,
      newSteps: b.newSteps,
      replayedSteps: b.replayedSteps,
      reopens: b.reopens,
      reflections: b.reflections.map((r) => ({ afterStep: r.afterStep, step: r.step, valid: r.valid, trigger: r.trigger, error: r.error })),
    })),
  };
}

const OUTCOME_MARK: Record<string, string> = { success: '✓', rollback: '↩', horizon: '…', budget: '$', done: '■' };

function clip(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

/** A readable tree: one line per branch, children indented under their parent. */
export function renderTreeText(tree: EpisodeTree): string {
  const lines = [
    `${tree.taskId}  ${tree.success ? 'SOLVED' : 'not solved'}  budget ${tree.budget.used}/${tree.budget.limit} new steps (+${tree.budget.replayed} replayed)  ${tree.branches.length} branch(es)  [${tree.episodeId}]`,
  ];
  const children = new Map<string | null, BranchRecord[]>();
  for (const b of tree.branches) children.set(b.parent, [...(children.get(b.parent) ?? []), b]);
  const walk = (parent: string | null, indent: string) => {
    for (const b of children.get(parent) ?? []) {
      const head = b.parent === null ? `${b.id} root` : `${b.id} from ${b.parent} at τ=${b.tau}`;
      const last = b.steps[b.steps.length - 1];
      lines.push(`${indent}${OUTCOME_MARK[b.outcome] ?? '?'} ${head}: ${b.outcome}, ${b.newSteps} new + ${b.replayedSteps} replayed step(s)${b.reopens ? `, ${b.reopens} re-open(s)` : ''}`);
      if (b.experience) lines.push(`${indent}    experience: "${clip(b.experience, 110)}"`);
      if (last) lines.push(`${indent}    last feedback: ${clip(previewOf(last.feedback), 110)}`);
      for (const r of b.reflections.filter((r) => !r.valid)) lines.push(`${indent}    rejected reflection after step ${r.afterStep}: ${clip(r.error ?? '', 90)}`);
      walk(b.id, `${indent}    `);
    }
  };
  walk(null, '  ');
  return lines.join('\n');
}
