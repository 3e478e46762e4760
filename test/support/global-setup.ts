// One Temporal dev server for the whole test run, and the workflow bundle built once.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { assertIsolationAllowed, detectIsolation } from '../../envs/code/sandbox';
import { startLocalStack } from '../../runtime/local-stack';
import { resolveTemporalCli } from '../../runtime/temporal-cli';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
    workflowBundlePath: string;
    testRunDir: string;
  }
}

export default async function setup(project: TestProject) {
  // Most suites run candidate code: without bubblewrap, one clear line now instead of dozens of failures.
  assertIsolationAllowed(await detectIsolation());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-test-'));
  const cli = resolveTemporalCli();
  const stack = await startLocalStack({ temporal: { kind: 'dev-server', cli, dbFile: path.join(dir, 'temporal.sqlite') }, bundle: { buildInto: path.join(dir, 'workflow-bundle.js') } });
  project.provide('temporalAddress', stack.address);
  project.provide('temporalCli', cli);
  project.provide('workflowBundlePath', stack.bundle!.codePath);
  project.provide('testRunDir', dir);
  return async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
