/**
 * Probes the code sandbox in a fresh process (the level is detected once per process), so a
 * test can run it with another PATH or environment. Prints one JSON line.
 */
import { ApplicationFailure } from '@temporalio/common';
import pLimit from 'p-limit';
import { SessionRegistry } from '../../activities/environment/session-registry';
import { providerFor } from '../../envs/registry';
import type { ArtifactStore } from '../../infra/artifact-store';
import { describeSandbox, detectIsolation, runSandboxed } from '../../envs/code/sandbox';

async function main(): Promise<void> {
  const out: Record<string, unknown> = { level: await detectIsolation(), describe: await describeSandbox() };
  try {
    const r = await runSandboxed({ args: ['-I', '-c', 'print("ran")'], limits: { wallMs: 10_000 } });
    out.stdout = r.stdout;
    out.isolation = r.isolation.level;
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
  }
  // Opening a code session is where a worker refuses (the refusal precedes reading the tasks).
  try {
    await new SessionRegistry(null as unknown as ArtifactStore, providerFor, pLimit(1)).open('s', { kind: 'code', tasks: '/nonexistent.jsonl' }, 'T/0', 0, []);
  } catch (err) {
    const e = err as Error;
    out.openError = e instanceof ApplicationFailure ? `${e.type} nonRetryable=${e.nonRetryable}: ${e.message}` : `${e.name}: ${e.message}`;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

void main();
