// Records workflow histories for test/replay-histories.test.ts and ADDS them as fixtures:
//
//   node --import tsx test/support/record-history.ts <scenario>... [--dir <fixture dir>]
//
// scenarios: exploration (ping, a seeded HumanEval episode, its root branch and a branch that
// replays a prefix), experiment (both runs of experimentWorkflow around continue-as-new, an
// evaluateWorkflow, a storedEpisodeWorkflow), cancelled-branch (a branch cancelled mid-step).
// Each history goes to <dir>/<workflowType>/<WORKFLOW_CODE_VERSION>/<scenario>.json with its line
// in SHA256SUMS (test/support/history-fixtures.ts). An existing fixture is never overwritten: the
// recorder refuses before it starts. Fixtures of older code versions stay, and keep proving that
// histories of running workflows replay (docs/versioning.md).
//
// Each scenario starts its own dev server, simulator and in-process workers. The history is
// proto3 JSON (what the SDK's historyToJSON writes and historyFromJSON reads).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { EpisodeTree } from '../../core/tree';
import { historyToJson } from '../../infra/history-json';
import { startLocalStack } from '../../runtime/local-stack';
import { taskQueues, type TaskQueues } from '../../contract/task-queues';
import { WORKFLOW_CODE_VERSION } from '../../workflows/workflow-code-version';
import { completedActivities, runEpisode, simInference, startCodeSim, startEpisode, until } from './episode-runner';
import { addFixture, assertNewFixture, FIXTURE_DIR, type FixtureName, type HistoryFixture } from './history-fixtures';
import { startStudy } from '../../cli/study';
import { loadSpec } from '../../spec/load-spec';
import { startSimServer } from '../../sim/sim-server';
import { simPoliciesFor } from '../../sim/sim-policies';

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

/** One recorded history and the name it is added under. */
interface Recorded {
  name: FixtureName;
  fixture: HistoryFixture;
}

/** A scenario: the fixtures it adds (known before recording, so existing ones are refused first) and how to record them. */
interface Scenario {
  adds: FixtureName[];
  record(): Promise<Recorded[]>;
}

const named = (workflowType: string, scenario: string): FixtureName => ({ workflowType, version: WORKFLOW_CODE_VERSION, scenario });

function recorded(name: FixtureName, workflowId: string, history: History): Recorded {
  return { name, fixture: { workflowType: name.workflowType, workflowId, recordedAt: new Date().toISOString(), history: historyToJson(history) } };
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

const EXPLORATION = {
  ping: named('pingWorkflow', 'ping'),
  episode: named('episodeWorkflow', 'humaneval-with-branches'),
  root: named('branchWorkflow', 'root'),
  replayedPrefix: named('branchWorkflow', 'replayed-prefix'),
};

/**
 * A pingWorkflow and a small seeded HumanEval episode: the episode, its root branch (interval
 * reflections) and the branch with the longest replayed prefix (open + replay a₁..a_{τ-1}).
 */
async function recordExploration(): Promise<Recorded[]> {
  return withRecordingRuntime('record', async ({ client, queues }) => {
    const sim = await startCodeSim({ seed: FIXTURE_EPISODE.simSeed });
    try {
      const out: Recorded[] = [];

      const pingId = 'fixture-ping';
      await client.workflow.execute('pingWorkflow', { taskQueue: queues.workflows, workflowId: pingId, args: [{ message: 'hello', activityQueue: queues.llm }] });
      out.push(recorded(EXPLORATION.ping, pingId, await client.workflow.getHandle(pingId).fetchHistory()));

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
      out.push(recorded(EXPLORATION.episode, episodeId, await client.workflow.getHandle(episodeId).fetchHistory()));
      const root = tree.branches[0];
      const branch = [...tree.branches].sort((a, b) => b.replayedSteps - a.replayedSteps)[0];
      if (root.reflections.length === 0) process.stderr.write(`record-history: warning: the root of ${episodeId} made no reflection\n`);
      if (branch.replayedSteps === 0) process.stderr.write(`record-history: warning: no branch of ${episodeId} replayed a prefix\n`);
      out.push(recorded(EXPLORATION.root, root.workflowId, await client.workflow.getHandle(root.workflowId).fetchHistory()));
      out.push(recorded(EXPLORATION.replayedPrefix, branch.workflowId, await client.workflow.getHandle(branch.workflowId).fetchHistory()));
      process.stderr.write(
        `record-history: episode ${episodeId}: ${tree.branches.length} branches, budget ${tree.budget.used}/${tree.budget.limit}; root ${root.reflections.length} reflections; branch fixture ${branch.id} (replayed ${branch.replayedSteps})\n`,
      );
      return out;
    } finally {
      await sim.close();
    }
  });
}

const EXPERIMENT = {
  firstRun: named('experimentWorkflow', 'first-run'),
  lastRun: named('experimentWorkflow', 'last-run'),
  evaluate: named('evaluateWorkflow', 'evaluate'),
  explore: named('storedEpisodeWorkflow', 'explore'),
};

/**
 * Records the experiment-level workflow types from one tiny simulator experiment (leafe, 1
 * iteration, generated Sokoban levels): both runs of experimentWorkflow (the one that ends in
 * continue-as-new and the final one), an evaluateWorkflow and a storedEpisodeWorkflow.
 */
async function recordExperiment(): Promise<Recorded[]> {
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
      const evaluateId = `${experimentId}/it0/evaluate`;
      const exploreId = `${experimentId}/it0/explore/${loaded.config.trainTasks[0]}`;
      return [
        recorded(EXPERIMENT.firstRun, experimentId, await client.workflow.getHandle(experimentId, firstRunId).fetchHistory()),
        recorded(EXPERIMENT.lastRun, experimentId, await handle.fetchHistory()),
        recorded(EXPERIMENT.evaluate, evaluateId, await client.workflow.getHandle(evaluateId).fetchHistory()),
        recorded(EXPERIMENT.explore, exploreId, await client.workflow.getHandle(exploreId).fetchHistory()),
      ];
    } finally {
      await sim.close();
    }
  });
}


const CANCELLED_BRANCH = named('branchWorkflow', 'cancelled-mid-step');

/** How long the simulator takes to answer: the window in which the root's second step is in flight. */
const ANSWER_MS = 3_000;

/**
 * FIXTURE_EPISODE cancelled while its root branch waits for the model in its second step (the
 * session its first step opened is open): the root's history has the close-session-on-cancel
 * marker, the cancel request, and the closeEnvironment it schedules after that.
 */
async function recordCancelledBranch(): Promise<Recorded[]> {
  return withRecordingRuntime('record-cancel', async ({ client, queues }) => {
    const sim = await startCodeSim({ seed: FIXTURE_EPISODE.simSeed, latency: { meanMs: ANSWER_MS, distribution: 'fixed' } });
    try {
      const episodeId = 'fixture-cancel';
      const episode = await startEpisode({ client, queues, workflowId: episodeId, taskId: FIXTURE_EPISODE.taskId, seed: FIXTURE_EPISODE.seed, inference: simInference(sim.url), leafe: FIXTURE_EPISODE.leafe });
      const root = client.workflow.getHandle(`${episodeId}/b0`);
      // The root's first activity (open + step 1) has completed: step 2 is asking the model.
      await until(`${root.workflowId} to complete its first step`, async () => {
        const history = await root.fetchHistory().catch(() => null);
        return history !== null && completedActivities(history).size >= 1;
      }, 120_000);
      await episode.cancel();
      const err = await episode.result().then(
        () => null,
        (e: unknown) => e,
      );
      if (!(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure)) throw new Error(`record-history: ${episodeId} was not cancelled: ${String(err)}`);
      const history = await root.fetchHistory();
      const problem = cancelledBranchProblem(history);
      if (problem) throw new Error(`record-history: ${root.workflowId}: ${problem}`);
      return [recorded(CANCELLED_BRANCH, root.workflowId, history)];
    } finally {
      await sim.close();
    }
  });
}

/** Patch ids of the patch markers in a history, in order. */
export function patchMarkers(history: History): string[] {
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const payload = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0] : undefined;
    return payload ? [defaultPayloadConverter.fromPayload<{ id: string }>(payload).id] : [];
  });
}

/**
 * Why a branch history does not show the close-session-on-cancel path (null when it does): it
 * must have the marker, end cancelled, and schedule closeEnvironment after the cancel request.
 */
export function cancelledBranchProblem(history: History): string | null {
  const events = history.events ?? [];
  if (!patchMarkers(history).includes('close-session-on-cancel')) return 'no close-session-on-cancel marker';
  const cancelAt = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
  if (cancelAt < 0) return 'no cancel request';
  if (!events[events.length - 1]?.workflowExecutionCanceledEventAttributes) return 'it did not end cancelled';
  const closes = events.slice(cancelAt).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'closeEnvironment');
  return closes.length === 1 ? null : `${closes.length} closeEnvironment scheduled after the cancel request, expected 1`;
}

const SCENARIOS: Record<string, Scenario> = {
  exploration: { adds: Object.values(EXPLORATION), record: recordExploration },
  experiment: { adds: Object.values(EXPERIMENT), record: recordExperiment },
  'cancelled-branch': { adds: [CANCELLED_BRANCH], record: recordCancelledBranch },
};

/** Records the named scenarios and adds their fixtures to `dir`; refuses, before recording, if any exists. */
export async function recordScenarios(names: string[], dir = FIXTURE_DIR): Promise<string[]> {
  const scenarios = names.map((n) => {
    const s = SCENARIOS[n];
    if (!s) throw new Error(`unknown scenario ${JSON.stringify(n)}: one of ${Object.keys(SCENARIOS).join(', ')}`);
    return s;
  });
  for (const s of scenarios) for (const name of s.adds) assertNewFixture(name, dir);
  const files: string[] = [];
  for (const s of scenarios) for (const r of await s.record()) files.push(addFixture(r.name, r.fixture, dir));
  return files;
}

if (require.main === module) {
  const { values, positionals } = parseArgs({ options: { dir: { type: 'string' } }, allowPositionals: true });
  if (positionals.length === 0) {
    process.stderr.write(`usage: node --import tsx test/support/record-history.ts <${Object.keys(SCENARIOS).join('|')}>... [--dir <fixture dir>]\n`);
    process.exit(2);
  }
  recordScenarios(positionals, values.dir ? path.resolve(values.dir) : undefined).then(
    (files) => process.stdout.write(`${files.join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
