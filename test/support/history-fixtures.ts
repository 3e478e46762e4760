// The recorded workflow histories replayed by test/replay-histories.test.ts. They stand for
// workflows running in production, so they are added, never re-recorded: each lives at
//
//   test/fixtures/histories/<workflowType>/<code version>/<scenario>.json
//
// (code version: workflows/workflow-code-version.ts) and its sha256 is in SHA256SUMS next to
// them (`sha256sum -c SHA256SUMS` checks it by hand), written by addFixture together with the file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/paths';

export const FIXTURE_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
export const MANIFEST = 'SHA256SUMS';
export const NEVER_RERECORDED = 'fixtures are never re-recorded; record a new version instead';

export interface HistoryFixture {
  workflowType: string;
  workflowId: string;
  recordedAt: string;
  /** proto3 JSON of the History (historyToJSON format). */
  history: unknown;
}

/** Where a fixture lives: which workflow type, recorded by which code version, in which scenario. */
export interface FixtureName {
  workflowType: string;
  version: string;
  scenario: string;
}

/** The fixture's path relative to the fixture directory (`/`-separated, as in SHA256SUMS). */
export function fixturePath(name: FixtureName): string {
  return `${name.workflowType}/${name.version}/${name.scenario}.json`;
}

/** The name a relative fixture path encodes, or null when it is not `<type>/<version>/<scenario>.json`. */
export function parseFixturePath(rel: string): FixtureName | null {
  const m = /^([^/]+)\/([^/]+)\/([^/]+)\.json$/.exec(rel);
  return m ? { workflowType: m[1], version: m[2], scenario: m[3] } : null;
}

/** Every *.json below `dir`, relative and sorted. */
export function listFixtureFiles(dir = FIXTURE_DIR): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

export function readFixture(rel: string, dir = FIXTURE_DIR): HistoryFixture {
  return JSON.parse(readFileSync(path.join(dir, rel), 'utf8')) as HistoryFixture;
}

function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** SHA256SUMS as path → sha256 (empty when there is none yet). */
export function readManifest(dir = FIXTURE_DIR): Map<string, string> {
  const file = path.join(dir, MANIFEST);
  const entries = new Map<string, string>();
  if (!existsSync(file)) return entries;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new Error(`${MANIFEST}: not a sha256sum line: ${JSON.stringify(line)}`);
    if (entries.has(m[2])) throw new Error(`${MANIFEST}: ${m[2]} is listed twice`);
    entries.set(m[2], m[1]);
  }
  return entries;
}

function writeManifest(entries: Map<string, string>, dir: string): void {
  const lines = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([file, hash]) => `${hash}  ${file}\n`);
  writeFileSync(path.join(dir, MANIFEST), lines.join(''));
}

/**
 * What differs between the fixtures in `dir` and SHA256SUMS: a changed or missing fixture (it
 * was re-recorded or deleted) or one without its line. Empty when fixtures were only added.
 */
export function fixtureProblems(dir = FIXTURE_DIR): string[] {
  const manifest = readManifest(dir);
  const files = listFixtureFiles(dir);
  const problems: string[] = [];
  for (const [file, expected] of manifest) {
    if (!files.includes(file)) {
      problems.push(`${file} is listed in ${MANIFEST} but missing: ${NEVER_RERECORDED}`);
      continue;
    }
    const actual = sha256(readFileSync(path.join(dir, file)));
    if (actual !== expected) problems.push(`${file} changed (sha256 ${actual}, ${MANIFEST} says ${expected}): ${NEVER_RERECORDED}`);
  }
  for (const file of files) {
    if (!manifest.has(file)) problems.push(`${file} is not in ${MANIFEST}: add fixtures with test/support/record-history.ts, which writes the file and its line`);
  }
  return problems;
}

/** Throws when a fixture with this name exists (file or manifest line): it is never overwritten. */
export function assertNewFixture(name: FixtureName, dir = FIXTURE_DIR): void {
  const rel = fixturePath(name);
  if (existsSync(path.join(dir, rel)) || readManifest(dir).has(rel)) {
    throw new Error(`${rel} exists: ${NEVER_RERECORDED} (the version moves on when a patch is appended to WORKFLOW_PATCHES in workflows/workflow-code-version.ts; another scenario of this version needs its own name)`);
  }
}

/** Writes a new fixture and adds its line to SHA256SUMS; refuses to overwrite one. Returns its path. */
export function addFixture(name: FixtureName, fixture: HistoryFixture, dir = FIXTURE_DIR): string {
  assertNewFixture(name, dir);
  const rel = fixturePath(name);
  const file = path.join(dir, rel);
  const content = `${JSON.stringify(fixture, null, 2)}\n`;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { flag: 'wx' });
  const manifest = readManifest(dir);
  manifest.set(rel, sha256(content));
  writeManifest(manifest, dir);
  return file;
}
