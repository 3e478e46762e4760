import path from 'node:path';
import type { Command } from 'commander';
import { PROJECT_ROOT } from '../infra/paths';
import { loadSpec } from '../spec/load-spec';
import { WORKERS_FLAG, WORKERS_FLAG_HELP } from './local-runtime';
import { runStudy } from './run-command';

export const DEMO_SPEC = path.join(PROJECT_ROOT, 'examples', 'demo.yaml');

/** `leafe demo`: the quickstart — a small simulator study (leafe vs rft vs base) on generated Sokoban levels. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(`run the demo study (${path.relative(process.cwd(), DEMO_SPEC)}) on the simulator and print its Pass@k table`)
    .option('--json', 'print the summary as JSON on stdout')
    .option('--run-dir <dir>', 'run directory')
    .option(WORKERS_FLAG, WORKERS_FLAG_HELP)
    .action(async (opts: { json?: boolean; runDir?: string; workers?: string }) => {
      process.stderr.write('leafe demo: the model in this demo is the built-in simulator, a scripted stand-in for an LLM and a GPU trainer.\n');
      const loaded = await loadSpec(DEMO_SPEC, { runDir: opts.runDir });
      await runStudy(loaded, { wait: true, json: opts.json, runDir: opts.runDir, workers: opts.workers });
    });
}
