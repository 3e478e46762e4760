/**
 * Probes the code sandbox in a fresh process (the level is detected once per process), so a
 * test can run it with another PATH or environment. Prints one JSON line.
 */
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
  process.stdout.write(JSON.stringify(out) + '\n');
}

void main();
