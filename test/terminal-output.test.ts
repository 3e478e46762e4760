// Text a model or an environment wrote never reaches the operator's terminal raw (issue 25,
// item 5): escape sequences and control characters are stripped from everything the CLI prints.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { terminalSafe } from '../core/terminal-text';
import { HUMANEVAL_FILE } from '../infra/paths';
import { runLeafe } from './support/leafe-cli';
import { chatAnswer, modelList, startFakeInference, type FakeInference } from './support/fake-inference';

const HOSTILE = '\x1b[2J\x1b[31mALL TESTS PASSED\x1b]0;owned\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\x9b2Kdone\x08\x00';

test('terminalSafe drops CSI, OSC (BEL or ST), C1 and control characters, keeping text, tabs, newlines and Unicode', () => {
  expect(terminalSafe(HOSTILE)).toBe('ALL TESTS PASSEDlinkdone');
  expect(terminalSafe('a\tb\nc — ü ✓')).toBe('a\tb\nc — ü ✓');
  expect(terminalSafe('\x1bc reset')).toBe(' reset');
});

let fake: FakeInference | undefined;
afterAll(async () => fake?.close());

test('leafe explore prints a program\'s hostile exception message without its escape sequences', async () => {
  // Raised at import: the load error leads the feedback, so it is not cut from the printed line.
  const program = `\`\`\`python\nraise ValueError(${JSON.stringify(HOSTILE)})\n\`\`\``;
  fake = await startFakeInference((p) => (p.endsWith('/models') ? modelList('m') : chatAnswer(program)));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-terminal-'));
  const r = await runLeafe(['explore', '--env', 'code', '--tasks', HUMANEVAL_FILE, '--limit', '1', '--base-url', fake.url, '--model', 'm', '--run-dir', path.join(dir, 'run')], { timeoutMs: 120_000 });
  const printed = r.stdout + r.stderr;
  expect(printed, printed.slice(-2000)).toContain('ALL TESTS PASSED');
  // eslint-disable-next-line no-control-regex
  expect(printed.match(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g) ?? []).toEqual([]);
});
