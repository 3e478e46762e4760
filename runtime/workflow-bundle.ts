import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileAtomic } from '../infra/atomic-file';
import { defaultCacheDir, PROJECT_ROOT } from '../infra/paths';

/** Workflow code may only import these folders (lint-enforced), so they determine the bundle. */
export const BUNDLE_SOURCES = ['workflows', 'contract', 'core'];

const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []))
    .sort();
}

function bundleKey(): string {
  const hash = createHash('sha256');
  for (const pkg of ['@temporalio/workflow', '@temporalio/common', '@temporalio/worker']) {
    hash.update(`${pkg}@${(JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version}\n`);
  }
  for (const sub of BUNDLE_SOURCES) {
    for (const file of sourceFiles(path.join(PROJECT_ROOT, sub))) {
      hash.update(path.relative(PROJECT_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The workflow bundle, built once per version of the workflow code and kept in the cache
 * directory: a restarted worker (or a new CLI command) starts in a second instead of
 * re-bundling for several.
 */
export async function cachedWorkflowBundle(cacheDir = defaultCacheDir()): Promise<{ codePath: string }> {
  const codePath = path.join(cacheDir, 'workflow-bundles', `workflow-bundle-${bundleKey()}.js`);
  if (existsSync(codePath)) return { codePath };
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  await writeFileAtomic(codePath, code);
  return { codePath };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

/**
 * The workflow bundle built now from the sources, whatever the cache holds (tests and benchmarks
 * run exactly the code in the tree), written to `codePath`.
 */
export async function buildWorkflowBundle(codePath: string): Promise<{ codePath: string }> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  mkdirSync(path.dirname(codePath), { recursive: true });
  writeFileSync(codePath, code);
  return { codePath };
}
