// (Re)records the workflow histories replayed by test/replay-histories.test.ts:
//
//   node --import tsx test/support/record-history.ts [outDir]    (exploration workflows)
//   node --import tsx test/support/record-history.ts --experiment (experiment-level workflows)
//
// Starts its own dev server, simulator and in-process workers, runs a pingWorkflow and a small
// seeded HumanEval episode whose tree has a branch with a replayed prefix, and writes one JSON
// fixture per workflow type: { workflowType, workflowId, recordedAt, history }, where history is
// proto3 JSON (what the SDK's historyToJSON writes and historyFromJSON reads). Re-record only when a workflow
// change is intentional AND guarded by `patched()` or a new workflow type: the old fixtures are
// what keeps running experiments replayable.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { EpisodeTree } from '../../core/tree';
import { historyToJson } from '../../infra/history-json';
import { PROJECT_ROOT } from '../../infra/paths';
import { startLocalStack } from '../../runtime/local-stack';
import { taskQueues, type TaskQueues } from '../../workers/task-queues';
import { runEpisode, simInference, startCodeSim } from './episode-runner';
import { startStudy } from '../../cli/study';
import { loadSpec } from '../../spec/load-spec';
import { startSimServer } from '../../sim/sim-server';
import { simPoliciesFor } from '../../sim/sim-policies';

export const FIXTURE_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');

export interface HistoryFixture {
  workflowType: string;
  workflowId: string;
  recordedAt: string;
  /** proto3 JSON of the History (historyToJSON format). */
  history: unknown;
}

/** The recorded episode: interval reflections, so a branch replays a multi-step prefix. */
export const FIXTURE_EPISODE = {
  taskId: 'HumanEval/2',
  simSeed: 11,
  seed: 101,
  leafe: { reflectOnFailure: false, reflectEvery: 2, stopAtFirstSuccess: false, budget: 12, horizon: 4 },
};

// History <-> proto3 JSON lives in infra/history-json.ts (the SDK's own functions are broken in
// this install by duplicated protobufjs copies; test/replay-histories.test.ts tracks that).
export { historyFromJson, historyToJson } from '../../infra/history-json';

function fixture(workflowType: string, workflowId: string, history: History): HistoryFixture {
  return { workflowType, workflowId, recordedAt: new Date().toISOString(), history: historyToJson(history) };
}

interface RecordingRuntime {
  client: Client;
  queues: TaskQueues;
  dir: string;
  runDir: string;
}

/** A dev server on a temp SQLite file, a client and in-process workers for one recording, torn down after. */
async function withRecordingRuntime<T>(name: string, fn: (rt: RecordingRuntime) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `leafe-${name}-`));
  const runDir = path.join(dir, 'run');
  const stack = await startLocalStack({ temporal: { kind: 'dev-server', dbFile: path.join(dir, 'temporal.sqlite') } });
  const queues = taskQueues(name);
  try {
    await stack.startWorkers({ queues, runDir, shutdownGraceTime: '1s' });
    return await fn({ client: stack.client, queues, dir, runDir });
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function recordHistories(outDir = FIXTURE_DIR): Promise<string[]> {
  return withRecordingRuntime('record', async ({ client, queues }) => {
    const sim = await startCodeSim({ seed: FIXTURE_EPISODE.simSeed });
    try {
      const fixtures: Array<[string, HistoryFixture]> = [];

      const pingId = 'fixture-ping';
      await client.workflow.execute('pingWorkflow', { taskQueue: queues.workflows, workflowId: pingId, args: [{ message: 'hello', activityQueue: queues.llm }] });
      fixtures.push(['ping-workflow.json', fixture('pingWorkflow', pingId, await client.workflow.getHandle(pingId).fetchHistory())]);

      const episodeId = 'fixture-episode';
      const tree: EpisodeTree = await runEpisode({
        client,
        queues,
        workflowId: episodeId,
        taskId: FIXTURE_EPISODE.taskId,
        seed: FIXTURE_EPISODE.seed,
        inference: simInference(sim.url),
        leafe: FIXTURE_EPISODE.leafe,
      });
      fixtures.push(['episode-workflow.json', fixture('episodeWorkflow', episodeId, await client.workflow.getHandle(episodeId).fetchHistory())]);
      // Two branch histories: the root (one takeStep per step, interval reflections) and the branch
      // with the longest replayed prefix (open + replay a₁..a_{τ-1}). branch-root-workflow.json and
      // branch-workflow.json are the same two recorded before `patched('take-step')` (act, then
      // stepEnvironment, then reflect as separate activities): kept so that path still replays.
      const root = tree.branches[0];
      const branch = [...tree.branches].sort((a, b) => b.replayedSteps - a.replayedSteps)[0];
      if (root.reflections.length === 0) process.stderr.write(`record-history: warning: the root of ${episodeId} made no reflection\n`);
      if (branch.replayedSteps === 0) process.stderr.write(`record-history: warning: no branch of ${episodeId} replayed a prefix\n`);
      fixtures.push(['branch-root-take-step.json', fixture('branchWorkflow', root.workflowId, await client.workflow.getHandle(root.workflowId).fetchHistory())]);
      fixtures.push(['branch-take-step.json', fixture('branchWorkflow', branch.workflowId, await client.workflow.getHandle(branch.workflowId).fetchHistory())]);

      mkdirSync(outDir, { recursive: true });
      const written: string[] = [];
      for (const [name, f] of fixtures) {
        const file = path.join(outDir, name);
        writeFileSync(file, `${JSON.stringify(f, null, 2)}\n`);
        written.push(file);
      }
      process.stderr.write(
        `record-history: episode ${episodeId}: ${tree.branches.length} branches, budget ${tree.budget.used}/${tree.budget.limit}; root ${root.reflections.length} reflections; branch fixture ${branch.id} (replayed ${branch.replayedSteps})\n`,
      );
      return written;
    } finally {
      await sim.close();
    }
  });
}

/**
 * Records the experiment-level workflow types from one tiny simulator experiment (leafe, 1
 * iteration, generated Sokoban levels): both runs of experimentWorkflow (the one that ends in
 * continue-as-new and the final one), an evaluateWorkflow and a storedEpisodeWorkflow.
 */
export async function recordExperimentHistories(outDir = FIXTURE_DIR): Promise<string[]> {
  return withRecordingRuntime('record-exp', async ({ client, queues, dir, runDir }) => {
    const specFile = path.join(dir, 'spec.json');
    writeFileSync(
      specFile,
      JSON.stringify({
        name: 'fixture',
        methods: ['leafe'],
        iterations: 1,
        seed: 3,
        env: { kind: 'sokoban', count: 6, width: 6, height: 6, boxes: 1, seed: 3 },
        tasks: { train: { offset: 0, limit: 3 }, eval: { offset: 3, limit: 1 } },
        inference: { kind: 'sim' },
        simulator: { skill: { firstTry: 0.7, fixWithFeedback: 0.6, fixWithExperience: 0.9, reflectionAccuracy: 0.9 } },
        leafe: { horizon: 10, budget: 20 },
        trainer: { kind: 'sim', epochs: 1, stepsPerEpoch: 3, stepMs: 1 },
        deploy: { kind: 'sim' },
        evaluation: { samples: 2 },
      }),
    );
    const loaded = await loadSpec(specFile, { runDir });
    const sim = await startSimServer({ seed: 3, policies: await simPoliciesFor(loaded.config.env), skill: loaded.simulator.skill });
    try {
      const { handles } = await startStudy(client, loaded, queues, sim.url, 'fixture');
      const handle = handles.get('leafe')!;
      await handle.result();
      const description = await handle.describe();
      const firstRunId = description.raw.workflowExecutionInfo?.firstRunId ?? undefined;
      const experimentId = handle.workflowId;
      const fixtures: Array<[string, HistoryFixture]> = [
        ['experiment-workflow-first-run.json', fixture('experimentWorkflow', experimentId, await client.workflow.getHandle(experimentId, firstRunId).fetchHistory())],
        ['experiment-workflow-last-run.json', fixture('experimentWorkflow', experimentId, await handle.fetchHistory())],
        ['evaluate-workflow.json', fixture('evaluateWorkflow', `${experimentId}/it0/evaluate`, await client.workflow.getHandle(`${experimentId}/it0/evaluate`).fetchHistory())],
      ];
      const exploreId = `${experimentId}/it0/explore/${loaded.config.trainTasks[0]}`;
      fixtures.push(['stored-episode-workflow.json', fixture('storedEpisodeWorkflow', exploreId, await client.workflow.getHandle(exploreId).fetchHistory())]);
      mkdirSync(outDir, { recursive: true });
      return fixtures.map(([name, f]) => {
        const file = path.join(outDir, name);
        writeFileSync(file, `${JSON.stringify(f, null, 2)}\n`);
        return file;
      });
    } finally {
      await sim.close();
    }
  });
}

if (require.main === module && process.argv[2] === '--experiment') {
  // Only the experiment-level fixtures (keeps the older exploration fixtures as they were).
  recordExperimentHistories().then(
    (files) => process.stdout.write(`${files.join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  recordHistories(process.argv[2] ? path.resolve(process.argv[2]) : undefined).then(
    (files) => process.stdout.write(`${files.join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
