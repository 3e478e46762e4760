// Recorded histories are added, never re-recorded (test/support/history-fixtures.ts): a fixture
// that changed or went missing fails here, and every fixture's path says which workflow type and
// which code version (workflows/workflow-code-version.ts) recorded it.
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../infra/paths';
import { WORKFLOW_PATCHES, workflowCodeVersion } from '../workflows/workflow-code-version';
import { addFixture, FIXTURE_DIR, fixtureProblems, listFixtureFiles, MANIFEST, NEVER_RERECORDED, parseFixturePath, readFixture, readManifest, type HistoryFixture } from './support/history-fixtures';
import { historyFromJson, patchMarkers } from './support/record-history';

test('every fixture is byte-identical to its line in SHA256SUMS, and every fixture has one', () => {
  expect(fixtureProblems()).toEqual([]);
  expect([...readManifest().keys()].sort()).toEqual(listFixtureFiles());
});

test('every fixture is at <workflowType>/<code version>/<scenario>.json, and its patch markers are those its version knows', () => {
  const versions = Array.from({ length: WORKFLOW_PATCHES.length + 1 }, (_, n) => workflowCodeVersion(n));
  for (const file of listFixtureFiles()) {
    const name = parseFixturePath(file);
    expect(name, file).not.toBeNull();
    const fixture = readFixture(file);
    expect(fixture.workflowType, file).toBe(name!.workflowType);
    const n = versions.indexOf(name!.version);
    expect(n, `${file}: ${name!.version} is not a code version (${versions.join(', ')})`).toBeGreaterThanOrEqual(0);
    const known = WORKFLOW_PATCHES.slice(0, n) as readonly string[];
    for (const id of patchMarkers(historyFromJson(fixture.history))) expect(known, `${file}: marker ${id}`).toContain(id);
  }
});

test('WORKFLOW_PATCHES lists every patch id the workflow code uses', () => {
  const dir = path.join(PROJECT_ROOT, 'workflows');
  const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
  const calls = sources.flatMap((s) => s.match(/\b(?:patched|deprecatePatch)\((?!\))/g) ?? []);
  const ids = sources.flatMap((s) => [...s.matchAll(/\b(?:patched|deprecatePatch)\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]));
  expect(calls.length).toBeGreaterThan(0);
  // A patch id that is not a string literal could not be checked here.
  expect(ids).toHaveLength(calls.length);
  for (const id of ids) expect(WORKFLOW_PATCHES as readonly string[], `patch id '${id}' is missing from workflows/workflow-code-version.ts`).toContain(id);
});

describe('on a copy of the fixtures', () => {
  let dir: string | undefined;
  let before: string[] = [];
  const copy = () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-fixtures-'));
    cpSync(FIXTURE_DIR, dir, { recursive: true });
    before = fixtureProblems(dir);
    return dir;
  };
  // What the change made in the copy broke (the first test above reports the tree's own problems).
  const newProblems = (d: string) => fixtureProblems(d).filter((p) => !before.includes(p));
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const someFixture = 'pingWorkflow/v0/ping.json';

  test('a fixture with one byte changed fails: fixtures are never re-recorded', () => {
    const d = copy();
    const file = path.join(d, someFixture);
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] ^= 1;
    writeFileSync(file, bytes);
    const problems = newProblems(d);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${someFixture} changed`);
    expect(problems[0]).toContain(NEVER_RERECORDED);
  });

  test('a deleted fixture fails, and so does one added without its SHA256SUMS line', () => {
    const d = copy();
    unlinkSync(path.join(d, someFixture));
    appendFileSync(path.join(d, 'pingWorkflow', 'v0', 'unlisted.json'), '{}\n');
    expect(newProblems(d)).toEqual([
      `${someFixture} is listed in ${MANIFEST} but missing: ${NEVER_RERECORDED}`,
      `pingWorkflow/v0/unlisted.json is not in ${MANIFEST}: add fixtures with test/support/record-history.ts, which writes the file and its line`,
    ]);
  });

  test('addFixture adds the file and its line, and refuses to overwrite an existing fixture', () => {
    const d = copy();
    const fixture: HistoryFixture = { workflowType: 'pingWorkflow', workflowId: 'w', recordedAt: '2026-11-30T00:00:00.000Z', history: { events: [] } };
    addFixture({ workflowType: 'pingWorkflow', version: 'v9-test', scenario: 'added' }, fixture, d);
    expect(newProblems(d)).toEqual([]);
    expect(readManifest(d).has('pingWorkflow/v9-test/added.json')).toBe(true);

    const original = readFileSync(path.join(d, someFixture));
    expect(() => addFixture({ workflowType: 'pingWorkflow', version: 'v0', scenario: 'ping' }, fixture, d)).toThrow(NEVER_RERECORDED);
    expect(readFileSync(path.join(d, someFixture)).equals(original)).toBe(true);
    expect(newProblems(d)).toEqual([]);
  });
});
