// Recorded histories of every workflow type and code version (test/fixtures/histories/<type>/<version>/,
// added by `node --import tsx test/support/record-history.ts <scenario>`, never re-recorded) must
// replay on the current workflow code: a nondeterministic change fails here before it reaches a
// running experiment (DESIGN.md §2, docs/versioning.md).
import { mkdtempSync, readFileSync, rmSync, symlinkSync, cpSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { PROJECT_ROOT } from '../infra/paths';
import { BUNDLE_SOURCES } from '../runtime/workflow-bundle';
import { listFixtureFiles, readFixture, type HistoryFixture } from './support/history-fixtures';
import { cancelledBranchProblem, historyFromJson } from './support/record-history';

const files = listFixtureFiles();
const fixtures = new Map<string, HistoryFixture>(files.map((f) => [f, readFixture(f)]));

beforeAll(() => {
  try {
    // Core would log every expected nondeterminism failure below as a WARN.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  } catch {
    // already installed in this process
  }
});

function startedType(f: HistoryFixture): string | undefined {
  return historyFromJson(f.history).events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;
}

test('there is a recorded history of every workflow type, from a run with branches', async () => {
  const types = [...fixtures.values()].map((f) => f.workflowType);
  const workflowTypes = Object.keys(await import('../workflows'));
  expect(new Set(types)).toEqual(new Set(workflowTypes));
  for (const f of fixtures.values()) expect(startedType(f)).toBe(f.workflowType);
  // The episode started several branches, and one recorded branch replays a prefix.
  const episode = [...fixtures.values()].find((f) => f.workflowType === 'episodeWorkflow')!;
  const children = (historyFromJson(episode.history).events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  expect(children.length).toBeGreaterThanOrEqual(2);
  const branches = [...fixtures.values()].filter((f) => f.workflowType === 'branchWorkflow');
  expect(branches.some((f) => /\/b[1-9]\d*$/.test(f.workflowId))).toBe(true);
});

test('both sides of patched(\'take-step\') are recorded: branches from before it (act/step/reflect) and after it (takeStep)', () => {
  const activityTypes = (f: HistoryFixture) =>
    new Set((historyFromJson(f.history).events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? ''] : [])));
  const branches = [...fixtures.values()].filter((f) => f.workflowType === 'branchWorkflow');
  const before = branches.filter((f) => activityTypes(f).has('act'));
  const after = branches.filter((f) => activityTypes(f).has('takeStep'));
  expect(before.length).toBeGreaterThanOrEqual(1);
  expect(after.length).toBeGreaterThanOrEqual(1);
  for (const f of before) expect([...activityTypes(f)].sort()).toEqual(expect.arrayContaining(['act', 'openEnvironment', 'stepEnvironment']));
  for (const f of after) for (const type of ['act', 'reflect', 'stepEnvironment']) expect(activityTypes(f).has(type), `${f.workflowId} ${type}`).toBe(false);
});

test('a branch cancelled mid-step under patched(\'close-session-on-cancel\') is recorded: the marker, then closeEnvironment after the cancel request', () => {
  const branches = [...fixtures.entries()].filter(([, f]) => f.workflowType === 'branchWorkflow');
  const cancelled = branches.filter(([, f]) => cancelledBranchProblem(historyFromJson(f.history)) === null).map(([file]) => file);
  expect(cancelled).toContain('branchWorkflow/v2-close-session-on-cancel/cancelled-mid-step.json');
});

describe('replay on the current workflow code', () => {
  test.each(files)('%s', async (file) => {
    const f = fixtures.get(file)!;
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, historyFromJson(f.history), f.workflowId);
  });
});

describe('a nondeterministic change is caught', () => {
  let dir: string;
  let codePath: string;

  beforeAll(async () => {
    // A copy of the workflow code in which every workflow starts with a 1 ms timer: the first
    // command no longer matches the recorded history.
    dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-nondeterministic-'));
    for (const sub of BUNDLE_SOURCES) cpSync(path.join(PROJECT_ROOT, sub), path.join(dir, sub), { recursive: true });
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    for (const name of ['ping-workflow.ts', 'episode-workflow.ts', 'branch-workflow.ts', 'stored-episode-workflow.ts', 'evaluate-workflow.ts', 'experiment-workflow.ts']) {
      const file = path.join(dir, 'workflows', name);
      const source = readFileSync(file, 'utf8');
      let changed = 0;
      const altered = source.replace(/export async function \w+Workflow\([^)]*\)[^{]*\{/g, (m) => {
        changed++;
        return `${m}\n  await __nondeterministicSleep(1);`;
      });
      expect(changed, `no exported *Workflow function found in ${name}`).toBe(1);
      writeFileSync(file, `import { sleep as __nondeterministicSleep } from '@temporalio/workflow';\n${altered}`);
    }
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows', 'index.ts'), logger: new DefaultLogger('ERROR') });
    codePath = path.join(dir, 'bundle.js');
    writeFileSync(codePath, bundle.code);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each(files)('%s no longer replays', async (file) => {
    const f = fixtures.get(file)!;
    const replay = Worker.runReplayHistory({ workflowBundle: { codePath } }, historyFromJson(f.history), f.workflowId);
    await expect(replay).rejects.toThrow(/nondetermin/i);
  });
});

// BUG (environment, not our code): package-lock.json installs two copies of protobufjs 8.8.1
// (node_modules/@temporalio/common/node_modules and node_modules/@temporalio/proto/node_modules,
// because the root holds protobufjs 7.6.6 for @grpc/proto-loader). The SDK's historyFromJSON /
// historyToJSON pass a Type built by proto's copy to common's fromJson/toJson, which throws
// "TypeError: type must be a Type"; Worker.runReplayHistory(JSON) goes through the same path.
// Fix: dedupe so common and proto share one protobufjs 8 (e.g. `"overrides": {"@grpc/proto-loader":
// {"protobufjs": "$protobufjs"}}` with protobufjs 8 at the root, or `npm dedupe`). Until then the
// fixtures are read with record-history.ts's historyFromJson (same protojson, from proto's copy).
// When this starts passing, drop `.fails` and use the SDK functions in record-history.ts.
test.fails('the SDK historyFromJSON reads the recorded fixtures', () => {
  for (const f of fixtures.values()) expect(historyFromJSON(f.history).events?.length).toBeGreaterThan(0);
});
