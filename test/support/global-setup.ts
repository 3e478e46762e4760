// One Temporal dev server for the whole test run, and the workflow bundle built once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../../runtime/dev-server';
import { resolveTemporalCli } from '../../runtime/temporal-cli';
import { PROJECT_ROOT } from '../../infra/paths';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
    workflowBundlePath: string;
    testRunDir: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-test-'));
  const cli = resolveTemporalCli();
  const server = await startDevServer({ cli, dbFile: path.join(dir, 'temporal.sqlite'), ui: false });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  try {
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(PROJECT_ROOT, 'workflows', 'index.ts'), logger: quietLogger });
    writeFileSync(bundlePath, bundle.code);
  } catch (err) {
    await server.stop();
    throw err;
  }
  project.provide('temporalAddress', server.address);
  project.provide('temporalCli', cli);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('testRunDir', dir);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
