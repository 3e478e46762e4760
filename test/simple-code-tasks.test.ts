// The generated task family for the real model (examples/tasks/simple-functions.jsonl): the file is
// what the generator writes, every reference solution passes its hidden tests, and a wrong one fails.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createCodeProvider } from '../envs/code/code-provider';
import { loadCodeTasks } from '../envs/code/code-tasks';
import { PROJECT_ROOT } from '../infra/paths';

const FILE = path.join(PROJECT_ROOT, 'examples', 'tasks', 'simple-functions.jsonl');

test('the committed file is exactly what scripts/make-simple-code-tasks.ts writes', () => {
  const before = readFileSync(FILE, 'utf8');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-simple-code-tasks.ts'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(readFileSync(FILE, 'utf8')).toBe(before);
});

test('every reference solution passes its hidden tests; returning None fails them', async () => {
  const provider = createCodeProvider({ kind: 'code', tasks: FILE });
  const tasks = await loadCodeTasks(FILE);
  expect(tasks.length).toBeGreaterThanOrEqual(30);
  for (const task of tasks) {
    const env = await provider.open(task.id, 0);
    await env.reset();
    expect(await env.step('```python\n' + task.reference + '\n```'), task.id).toMatchObject({ success: true, reward: 1 });
    const wrong = await provider.open(task.id, 0);
    await wrong.reset();
    expect(await wrong.step(`\`\`\`python\ndef ${task.entryPoint}(*args):\n    return None\n\`\`\``), task.id).toMatchObject({ success: false });
  }
});
