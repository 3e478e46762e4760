// History budget (DESIGN.md §2, issue 5): a 1 MB completion and a 200-step episode. Large texts
// must go through history as artifact refs, and every history (the episode and its branch) must
// stay under 2 MB and 5,000 events, far below Temporal's hard limits (50 MB / 51,200 events).
import { expect, test, afterAll, beforeAll } from 'vitest';
import { temporal } from '@temporalio/proto';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { SokobanEnvSpec } from '../core/env-spec';
import { DEFAULT_LEAFE_SETTINGS, DEFAULT_SAMPLING, type LeafeSettings } from '../core/leafe-settings';
import { deriveSeed } from '../core/random';
import { isRef } from '../core/text';
import type { EpisodeTree } from '../core/tree';
import { providerFor } from '../envs/registry';
import { DIRECTIONS, type Direction } from '../envs/sokoban/sokoban-level';
import { applyMove } from '../envs/sokoban/sokoban-rules';
import { parseObservation } from '../envs/sokoban/sokoban-observation';
import { LEGEND_MARKER } from '../envs/sokoban/sokoban-templates';
import { ArtifactStore } from '../infra/artifact-store';
import type { SimPolicy } from '../sim/policy';
import { startSimServer, type SimServer } from '../sim/sim-server';
import type { EpisodeInput } from '../contract/episode-types';
import { testTemporal, type TestTemporal } from './support/temporal';

const ENV: SokobanEnvSpec = { kind: 'sokoban', count: 4, width: 6, height: 6, boxes: 1, seed: 3 };
const STEPS = 200;
const SEED = 77;
/** The step whose completion is ~1 MB (late, so only a few prompts after it carry it). */
const BIG_STEP = 190;
const BIG_BYTES = 1_000_000;
const MAX_HISTORY_BYTES = 2 * 1024 * 1024;
const MAX_HISTORY_EVENTS = 5_000;

/**
 * A player that never finishes: it bumps into a wall when one is next to it, otherwise walks
 * without pushing a box (so no deadlock ends the episode and the box never reaches a goal).
 * One answer, at step BIG_STEP (recognised by the request seed the branch derives), is ~1 MB of
 * filler followed by the move, which the environment's parser reads (the last direction word).
 */
function wallBumper(): SimPolicy {
  const bigSeed = deriveSeed(SEED, 'b0', BIG_STEP, 'act');
  return {
    handles: (r) => r.messages.some((m) => m.role === 'user' && m.content.includes(LEGEND_MARKER)),
    act(r) {
      const last = [...r.messages].reverse().find((m) => m.role === 'user')!.content;
      const level = parseObservation(last);
      const state = { player: level.player, boxes: level.boxes };
      const outcomes = DIRECTIONS.map((dir) => ({ dir, kind: applyMove(level, state, dir).kind }));
      const wall = outcomes.find((o) => o.kind === 'blocked-wall');
      const walk = outcomes.filter((o) => o.kind === 'moved');
      const dir: Direction = wall?.dir ?? walk[r.seed % Math.max(1, walk.length)]?.dir ?? outcomes.find((o) => o.kind !== 'pushed')!.dir;
      if (r.seed === bigSeed) return `${'z'.repeat(BIG_BYTES)}\nAction: ${dir}`;
      return `Action: ${dir}`;
    },
    reflect: () => {
      throw new Error('reflection is off in this test');
    },
  };
}

function historyBytes(history: History): number {
  return temporal.api.history.v1.History.encode(history).finish().length;
}

let t: TestTemporal;
let sim: SimServer;

beforeAll(async () => {
  t = await testTemporal('history-budget');
  await t.startWorkers();
  sim = await startSimServer({ seed: 1, policies: [wallBumper()] });
});

afterAll(async () => {
  await sim?.close();
  await t?.close();
});

const measured: Array<{ workflowId: string; events: number; bytes: number }> = [];

test('a 200-step episode with a 1 MB completion: large texts are artifact refs, the histories are measured', async () => {
  const [taskId] = await providerFor(ENV).listTasks(1);
  const leafe: LeafeSettings = { ...DEFAULT_LEAFE_SETTINGS, horizon: STEPS, budget: STEPS, reflectOnFailure: false, reflectEvery: 0, maxDepth: 0, maxBranches: 1 };
  const input: EpisodeInput = { taskId, env: ENV, seed: SEED, inference: { ...DEFAULT_SAMPLING, baseUrl: sim.url, model: 'sim-base' }, leafe, queues: t.queues };
  const workflowId = `history-budget-${Date.now()}`;
  const tree = (await t.client.workflow.execute('episodeWorkflow', { taskQueue: t.queues.workflows, workflowId, args: [input] })) as EpisodeTree;

  // The episode ran its 200 steps without finishing.
  expect(tree.branches).toHaveLength(1);
  const root = tree.branches[0];
  expect(root.outcome).toBe('horizon');
  expect(root.steps).toHaveLength(STEPS);
  expect(tree.success).toBe(false);

  // The 1 MB completion went through history as a ref (hash, size, preview); the file holds it all.
  const big = root.steps[BIG_STEP - 1].action;
  expect(isRef(big)).toBe(true);
  if (!isRef(big)) return;
  expect(big.bytes).toBeGreaterThanOrEqual(BIG_BYTES);
  expect(big.preview.length).toBeLessThanOrEqual(200);
  const text = await ArtifactStore.forRunDir(t.runDir).getText(big.ref);
  expect(text.length).toBeGreaterThanOrEqual(BIG_BYTES);
  expect(text.endsWith(`Action: ${/Action: (\w+)$/.exec(text)![1]}`)).toBe(true);
  // Short completions stayed inline.
  expect(root.steps.filter((s) => isRef(s.action))).toHaveLength(1);

  for (const id of [workflowId, root.workflowId]) {
    const history = await t.client.workflow.getHandle(id).fetchHistory();
    measured.push({ workflowId: id, events: history.events?.length ?? 0, bytes: historyBytes(history) });
  }
  process.stderr.write(`history-budget: ${measured.map((m) => `${m.workflowId}: ${m.events} events, ${(m.bytes / 1024).toFixed(0)} KiB`).join('; ')}\n`);
  // The filler is nowhere in a history (only its 200-character preview is).
  for (const id of [workflowId, root.workflowId]) {
    const encoded = Buffer.from(temporal.api.history.v1.History.encode(await t.client.workflow.getHandle(id).fetchHistory()).finish());
    expect(encoded.includes('z'.repeat(1000)), `${id} holds the large completion`).toBe(false);
  }
}, 900_000);

test('every history (episode, branch) is under 2 MB and 5,000 events', () => {
  expect(measured.length).toBe(2);
  for (const m of measured) {
    expect(m.bytes, `${m.workflowId}: ${m.bytes} bytes`).toBeLessThan(MAX_HISTORY_BYTES);
    expect(m.events, `${m.workflowId}: ${m.events} events`).toBeLessThan(MAX_HISTORY_EVENTS);
  }
});
