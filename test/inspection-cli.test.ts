// Inspection, live control and archive commands against a tiny real experiment: real dev server,
// in-process workers, the simulator over HTTP; the command implementations are called directly,
// and the real CLI is spawned for `runs` and `trace`.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { archiveExperiment, experimentWorkflowsQuery } from '../cli/archive-experiment';
import type { ArchivedHistoryFile, ArchiveResult } from '../infra/archive-layout';
import { pauseExperiment, resumeExperiment, setExperimentConcurrency } from '../cli/control-command';
import { renderTreeText } from '../cli/render-tree';
import { listExperiments, type ExperimentRow } from '../cli/runs-command';
import { experimentSnapshot, renderSnapshot } from '../cli/status-command';
import { startStudy, waitForStudy } from '../cli/study';
import { traceDatasetRecord } from '../cli/trace-command';
import { defaultTreeHtmlPath, loadEpisodeTree, writeTreeHtml } from '../cli/tree-command';
import type { RecordProvenance } from '../core/distil';
import type { Method } from '../contract/experiment-config';
import { DEFAULT_LEAFE_SETTINGS } from '../core/leafe-settings';
import type { EpisodeTree } from '../core/tree';
import { ArtifactStore } from '../infra/artifact-store';
import { historyFromJson } from '../infra/history-json';
import { PROJECT_ROOT } from '../infra/paths';
import { renderTrace } from '../report/trace';
import { simPoliciesFor } from '../sim/sim-policies';
import { startSimServer, type SimServer } from '../sim/sim-server';
import { loadSpec, type LoadedSpec } from '../spec/load-spec';
import type { EpisodeInput } from '../contract/episode-types';
import { until } from './support/episode-runner';
import { testTemporal, type TestTemporal } from './support/temporal';

const run = promisify(execFile);

let t: TestTemporal;
let sim: SimServer;
let loaded: LoadedSpec;
let experimentId: string;
let handles: Map<Method, WorkflowHandle>;
let archive: ArchiveResult;
const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-inspect-'));

const SPEC = `
name: inspect
methods: [leafe]
iterations: 1
seed: 7
env: { kind: sokoban, count: 12, width: 6, height: 6, boxes: 1, seed: 7 }
tasks:
  train: { offset: 0, limit: 8 }
  eval: { offset: 8, limit: 2 }
inference: { kind: sim, maxTokens: 64 }
simulator: { skill: { firstTry: 0.5, fixWithFeedback: 0.4, fixWithExperience: 0.8, reflectionAccuracy: 0.9 } }
leafe: { horizon: 12, budget: 36, reflectOnFailure: true, maxDepth: 3, maxBranches: 6 }
distil: { requireSuccess: true, rehearsalFraction: 0.5, beta: 1 }
trainer: { kind: sim, epochs: 1, stepsPerEpoch: 4, stepMs: 1 }
deploy: { kind: sim }
evaluation: { samples: 2, ks: [1, 2] }
concurrency: { episodes: 6 }
`;

beforeAll(async () => {
  t = await testTemporal('inspect');
  await t.startWorkers();
  const specFile = path.join(dir, 'inspect.yaml');
  writeFileSync(specFile, SPEC);
  loaded = await loadSpec(specFile, { runDir: t.runDir });
  sim = await startSimServer({ seed: 7, policies: await simPoliciesFor(loaded.config.env), skill: loaded.simulator.skill });
  const started = await startStudy(t.client, loaded, t.queues, sim.url, `inspect-${Date.now()}`);
  handles = started.handles;
  experimentId = started.record.experiments.leafe;

  // Live: the status query answers with stage and task counts; signals change what it reports.
  const live = await until('a status answer', async () => {
    const s = await experimentSnapshot(t.client, experimentId);
    return s.state === 'running' && s.status ? s : null;
  });
  expect(renderSnapshot(live)).toContain(experimentId);
  if (live.state === 'running' && live.status) {
    expect(live.status.experimentId).toBe(experimentId);
    expect(typeof live.status.stage).toBe('string');
    expect(live.status.tasksDone).toBeLessThanOrEqual(live.status.tasksTotal);
  }
  expect((await pauseExperiment(t.client, experimentId)).paused).toBe(true);
  expect((await setExperimentConcurrency(t.client, experimentId, 3)).concurrency).toBe(3);
  expect(() => setExperimentConcurrency(t.client, experimentId, 0)).toThrow(/concurrency: 0; expected an integer >= 1/);
  expect((await resumeExperiment(t.client, experimentId)).paused).toBe(false);

  // waitForStudy writes the report, then archives every experiment of the study.
  await waitForStudy(started.record, handles, false);
  archive = JSON.parse(readFileSync(path.join(t.runDir, 'archive', experimentId, 'index.json'), 'utf8')) as ArchiveResult;
});

afterAll(async () => {
  await sim?.close();
  await t?.close();
});

test('runs lists the experiment with its search attributes', async () => {
  const row = await until('the closed experiment in visibility', async () => {
    const r = (await listExperiments(t.client)).find((x) => x.experimentId === experimentId);
    return r && r.status === 'COMPLETED' && r.stage === 'done' ? r : null;
  });
  expect(row).toMatchObject({ workflowId: experimentId, method: 'leafe', iteration: 1, stage: 'done', status: 'COMPLETED', runs: 2 });
  expect(row.startTime).toMatch(/^\d{4}-\d\d-\d\dT/);

  // The real CLI, pointed at the test server.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'leafe.ts'), 'runs', '--json', '--address', t.address, '--run-dir', t.runDir], { cwd: PROJECT_ROOT });
  const rows = JSON.parse(stdout) as ExperimentRow[];
  expect(rows.find((r) => r.experimentId === experimentId)).toMatchObject({ method: 'leafe', stage: 'done', status: 'COMPLETED' });
});

test('status of a closed experiment shows its result', async () => {
  const snap = await experimentSnapshot(t.client, experimentId);
  expect(snap.state).toBe('closed');
  if (snap.state !== 'closed') return;
  expect(snap.workflowStatus).toBe('COMPLETED');
  expect(snap.result?.iterations.map((i) => i.iteration)).toEqual([0, 1]);
  const text = renderSnapshot(snap);
  expect(text).toContain('pass@1');
  expect(text).toContain('cf +');
});

test('tree: text and standalone HTML/SVG for an experiment episode and a plain explore episode', async () => {
  const episodeId = `${experimentId}/it0/explore/${loaded.config.trainTasks[0]}`;
  const stored = await loadEpisodeTree(t.client, t.runDir, episodeId);
  expect(stored.episodeId).toBe(episodeId);
  expect(renderTreeText(stored)).toContain(`[${episodeId}]`);
  const file = await writeTreeHtml(stored, defaultTreeHtmlPath(t.runDir, episodeId));
  expect(file.startsWith(path.join(t.runDir, 'trees'))).toBe(true);
  const html = readFileSync(file, 'utf8');
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).toContain('<svg');
  expect(html).not.toMatch(/<(script|link)\b/);
  for (const b of stored.branches) expect(html).toContain(`>${b.id} · ${b.outcome}<`);
  for (const b of stored.branches.filter((x) => x.tau !== null)) expect(html).toContain(`τ=${b.tau}`);
  expect(html).toContain(`budget ${stored.budget.used}/${stored.budget.limit}`);

  // An episodeWorkflow (as `leafe explore` runs it) returns the tree itself.
  const input: EpisodeInput = { taskId: loaded.config.trainTasks[1], env: loaded.config.env, seed: 5, inference: { ...loaded.config.inference, baseUrl: sim.url }, leafe: { ...DEFAULT_LEAFE_SETTINGS, horizon: 8, budget: 16 }, queues: t.queues };
  const plainId = `inspect-explore-${Date.now()}/${input.taskId}`;
  const direct = (await t.client.workflow.execute('episodeWorkflow', { taskQueue: t.queues.workflows, workflowId: plainId, args: [input] })) as EpisodeTree;
  expect(await loadEpisodeTree(t.client, t.runDir, plainId)).toEqual(direct);
  await expect(loadEpisodeTree(t.client, t.runDir, experimentId)).rejects.toThrow(/is a experimentWorkflow; expected an episodeWorkflow or storedEpisodeWorkflow/);
});

test('trace of a cf record reaches the reflection and the environment feedback of the parent step', async () => {
  const provenanceFile = path.join(t.runDir, 'experiments', experimentId, 'it0', 'dataset', 'provenance.jsonl');
  const provenance = readFileSync(provenanceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordProvenance);
  const cf = provenance.find((p) => p.kind === 'cf' && p.reflectionFeedback !== null);
  expect(cf, 'the tiny experiment must produce a cf record with a reflection').toBeDefined();
  const chain = await traceDatasetRecord(t.runDir, cf!.recordId, { uiUrl: 'http://localhost:8233', namespace: 'default' });
  expect(chain.record).toMatchObject({ id: cf!.recordId, kind: 'cf' });
  expect(chain.experiment).toMatchObject({ experimentId, iteration: 0, taskId: cf!.taskId });
  expect(chain.episode.workflowId).toBe(cf!.episodeWorkflowId);
  expect(chain.branch).toMatchObject({ id: cf!.branchId, workflowId: cf!.branchWorkflowId, tau: cf!.tau });
  expect(chain.branch.link).toBe(`http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(cf!.branchWorkflowId)}`);
  expect(chain.reflection).toMatchObject({ parentBranchId: cf!.parentBranchId, tau: cf!.tau, experience: cf!.experience, trigger: cf!.reflectionTrigger });

  // The feedback equals the parent's step in the stored tree (independently resolved here).
  const store = ArtifactStore.forRunDir(t.runDir);
  const tree = await loadEpisodeTree(t.client, t.runDir, cf!.episodeWorkflowId);
  const parent = tree.branches.find((b) => b.id === cf!.parentBranchId)!;
  const reacted = parent.steps[chain.reflection!.afterStep - 1];
  expect(chain.feedbackStep).toMatchObject({ branchId: parent.id, t: chain.reflection!.afterStep });
  expect(chain.feedbackStep!.feedback).toBe(await store.resolve(reacted.feedback));
  expect(chain.feedbackStep!.feedback).toBe(cf!.reflectionFeedback);
  expect(renderTrace(chain)).toContain('ENVIRONMENT FEEDBACK the reflection reacted to');

  // A reh record traces to its own step's feedback.
  const reh = provenance.find((p) => p.kind === 'reh');
  if (reh) {
    const r = await traceDatasetRecord(t.runDir, reh.recordId, { uiUrl: null, namespace: 'default' });
    expect(r.reflection).toBeNull();
    expect(r.feedbackStep?.t).toBe(reh.step);
    expect(r.branch.link).toBeNull();
  }
  await expect(traceDatasetRecord(t.runDir, 'cf-0000000000000000', { uiUrl: null, namespace: 'default' })).rejects.toThrow(/is in none of the 1 dataset/);

  // The real CLI reads the run directory only.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'leafe.ts'), 'trace', cf!.recordId, '--run-dir', t.runDir], { cwd: PROJECT_ROOT });
  expect(stdout).toContain(cf!.reflectionFeedback!.split('\n')[0]);
  expect(stdout).toContain(`/namespaces/default/workflows/${encodeURIComponent(cf!.episodeWorkflowId)}`);
});

test('archive: one JSON file per workflow run (continue-as-new runs and descendants), each parses back', async () => {
  const expected: string[] = [];
  for await (const info of t.client.workflow.list({ query: experimentWorkflowsQuery(experimentId) })) expected.push(`${info.workflowId} ${info.runId}`);
  expect(archive.runs.map((r) => `${r.workflowId} ${r.runId}`).sort()).toEqual(expected.sort());
  const types = archive.runs.map((r) => r.workflowType);
  expect(types.filter((x) => x === 'experimentWorkflow')).toHaveLength(2);
  expect(types).toContain('evaluateWorkflow');
  expect(types).toContain('storedEpisodeWorkflow');
  expect(types).toContain('branchWorkflow');
  expect(archive.runs.filter((r) => r.workflowType === 'experimentWorkflow').map((r) => r.status).sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
  expect(archive.runs.every((r) => r.status !== 'RUNNING')).toBe(true);

  const files = readdirSync(archive.dir).filter((f) => f !== 'index.json');
  expect(files.sort()).toEqual(archive.runs.map((r) => r.file).sort());
  for (const r of archive.runs) {
    const f = JSON.parse(readFileSync(path.join(archive.dir, r.file), 'utf8')) as ArchivedHistoryFile;
    expect(f).toMatchObject({ workflowId: r.workflowId, runId: r.runId, workflowType: r.workflowType });
    const history = historyFromJson(f.history);
    expect(history.events?.length).toBe(r.events);
    expect(Number(history.events?.[0]?.eventId)).toBe(1);
  }

  // On demand (idempotent): the same runs again.
  const again = await archiveExperiment({ workflows: t.client.workflow, experimentId, runDir: t.runDir });
  expect(again.runs.map((r) => r.file).sort()).toEqual(archive.runs.map((r) => r.file).sort());
  expect(existsSync(again.indexFile)).toBe(true);
});
