import type { Command } from 'commander';
import { archiveExperiment } from './archive-experiment';
import { addInspectionOptions, withInspection, type InspectionFlags } from './inspection-options';

/** `leafe archive <id>`: exports every workflow history of an experiment as JSON into the run directory. */
export function registerArchiveCommand(program: Command): void {
  addInspectionOptions(
    program
      .command('archive')
      .description('export every workflow history of an experiment (all runs and descendants) as JSON into <runDir>/archive/<id>/')
      .argument('<experimentId>')
      .option('--json', 'print the index as JSON'),
  ).action(async (experimentId: string, opts: InspectionFlags & { json?: boolean }) => {
    const result = await withInspection(opts, (ctx) => archiveExperiment({ workflows: ctx.client.workflow, experimentId, runDir: ctx.runDir }));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const byType = new Map<string, number>();
    for (const r of result.runs) byType.set(r.workflowType, (byType.get(r.workflowType) ?? 0) + 1);
    const events = result.runs.reduce((n, r) => n + r.events, 0);
    const open = result.runs.filter((r) => r.status === 'RUNNING').length;
    process.stdout.write(
      `archived ${result.runs.length} workflow run(s), ${events} events: ${[...byType].map(([t, n]) => `${n} ${t}`).join(', ')}${open ? ` (${open} still RUNNING: archive again after it closes)` : ''}\n` +
        `dir: ${result.dir}\nindex: ${result.indexFile}\n`,
    );
  });
}
