import type { EpisodeTree } from '../core/tree';

export interface TreeStats {
  episodes: number;
  solved: number;
  branchesPerTask: number;
  /** How far back rollbacks went: trajectory length at reflection minus τ, averaged. */
  meanRollbackDistance: number;
  maxDepth: number;
  budgetUsed: number;
  budgetLimit: number;
  replayedSteps: number;
  invalidReflections: number;
  /** The isolation levels the branches' actions ran under (code: the sandbox), distinct, sorted. */
  isolation: string[];
}

export function treeStats(trees: EpisodeTree[]): TreeStats {
  let branches = 0;
  let rollbackDistance = 0;
  let rollbacks = 0;
  let maxDepth = 0;
  let invalid = 0;
  for (const tree of trees) {
    branches += tree.branches.length;
    for (const b of tree.branches) {
      maxDepth = Math.max(maxDepth, b.depth);
      for (const r of b.reflections) {
        if (!r.valid) invalid++;
        else if (r.step !== null) {
          rollbackDistance += r.afterStep - r.step;
          rollbacks++;
        }
      }
    }
  }
  return {
    episodes: trees.length,
    solved: trees.filter((t) => t.success).length,
    branchesPerTask: trees.length ? branches / trees.length : 0,
    meanRollbackDistance: rollbacks ? rollbackDistance / rollbacks : 0,
    maxDepth,
    budgetUsed: trees.reduce((n, t) => n + t.budget.used, 0),
    budgetLimit: trees.reduce((n, t) => n + t.budget.limit, 0),
    replayedSteps: trees.reduce((n, t) => n + t.budget.replayed, 0),
    invalidReflections: invalid,
    isolation: [...new Set(trees.flatMap((t) => t.branches.flatMap((b) => (b.isolation ? [b.isolation] : []))))].sort(),
  };
}
