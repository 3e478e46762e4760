import { DEFAULT_TIMEOUTS } from '../core/leafe-settings';
import type { Text } from '../core/text';
import { addUsage, NO_USAGE, type BranchRecord, type EpisodeTree } from '../core/tree';
import type { BranchInput, BranchResult, EpisodeInput, QueuedBranch } from '../contract/episode-types';

/**
 * The episode loop, written once (pure: no Temporal workflow API, no Node). episodeWorkflow runs
 * each branch as a child branchWorkflow; the benchmark's in-process baseline runs the same
 * branch loop (workflows/branch-loop.ts) through direct calls.
 */
export type RunBranch = (input: BranchInput) => Promise<BranchResult>;

/**
 * Explores one task as a tree. Holds the breadth-first queue of branch requests, the budget
 * (new environment steps; replayed prefix steps are counted apart) and the tree. Branches run
 * one at a time, in BFS order, so the budget is exact; parallelism comes from running many
 * episodes at once.
 */
export async function exploreEpisode(input: EpisodeInput, episodeId: string, runBranch: RunBranch): Promise<EpisodeTree> {
  const { leafe } = input;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...input.timeouts };
  const queue: QueuedBranch[] = [{ parent: null, depth: 0, tau: null, experience: null, prefix: [] }];
  const branches: BranchRecord[] = [];
  let used = 0;
  let replayed = 0;
  let usage = NO_USAGE;
  let initialObservation: Text = { inline: '' };
  let instructions: Text | undefined;

  while (queue.length > 0 && branches.length < leafe.maxBranches && used < leafe.budget) {
    const next = queue.shift()!;
    const branchId = `b${branches.length}`;
    const branchInput: BranchInput = {
      episodeId,
      branchId,
      ...next,
      taskId: input.taskId,
      env: input.env,
      seed: input.seed,
      inference: input.inference,
      leafe,
      allowance: leafe.budget - used,
      canRequestBranches: next.depth < leafe.maxDepth && branches.length + 1 + queue.length < leafe.maxBranches,
      maxRequests: Math.max(0, leafe.maxBranches - (branches.length + 1 + queue.length)),
      queues: input.queues,
      timeouts,
    };
    const result = await runBranch(branchInput);
    const record = result.record;
    branches.push(record);
    if (record.parent === null) {
      initialObservation = result.initialObservation;
      instructions = result.instructions;
    }
    used += record.newSteps;
    replayed += record.replayedSteps;
    usage = addUsage(usage, record.usage);
    if (record.outcome === 'success' && leafe.stopAtFirstSuccess) break;
    if (next.depth >= leafe.maxDepth) continue;
    for (const request of result.requests) {
      queue.push({
        parent: branchId,
        depth: next.depth + 1,
        tau: request.tau,
        experience: request.experience,
        prefix: record.steps.slice(0, request.tau - 1).map((s) => s.action),
      });
    }
  }

  return {
    taskId: input.taskId,
    episodeId,
    initialObservation,
    instructions,
    success: branches.some((b) => b.outcome === 'success'),
    budget: { used, limit: leafe.budget, replayed },
    branches,
    usage,
  };
}
