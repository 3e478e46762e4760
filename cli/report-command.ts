import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ARCHIVE_INDEX_FILE, archiveDirOf } from '../activities/store/archive-activity';
import { stageTimings, type StageTiming } from '../report/stage-timings';
import type { ExperimentSummary } from '../core/experiment-config';
import { defaultRunDir } from '../infra/paths';
import { passAtKTable } from '../report/study-summary';
import { writeReport } from '../report/write-report';
import { startLocalRuntime } from './local-runtime';
import { readStudy } from './study';

/** `leafe report <id>`: (re)writes the Markdown + SVG report of a study or a single experiment. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write the Markdown + SVG report of a study or experiment (Pass@k curves, tree statistics, token usage)')
    .argument('<id>', 'study id or experiment id')
    .option('--run-dir <dir>', 'run directory', defaultRunDir())
    .action(async (id: string, opts: { runDir: string }) => {
      const study = await readStudy(opts.runDir, id);
      const experimentIds = study ? Object.values(study.experiments) : [id];
      const runtime = await startLocalRuntime({ runDir: opts.runDir, workers: 'no', log: () => undefined });
      try {
        const summaries: ExperimentSummary[] = [];
        for (const experimentId of experimentIds) {
          const handle = runtime.client.workflow.getHandle(experimentId);
          const description = await handle.describe().catch(() => null);
          if (!description) throw new Error(`id: ${JSON.stringify(id)} is neither a study in ${opts.runDir}/studies nor an experiment workflow; expected an id printed by \`leafe run\``);
          if (description.status.name !== 'COMPLETED') throw new Error(`experiment ${experimentId} is ${description.status.name}; a report needs it COMPLETED (see \`leafe status ${experimentId}\`)`);
          summaries.push((await handle.result()) as ExperimentSummary);
        }
        // Stage wall times come from the archived histories (`leafe archive`), when there are any.
        const timings = new Map<string, StageTiming[]>();
        for (const experimentId of experimentIds) {
          const index = path.join(archiveDirOf(opts.runDir, experimentId), ARCHIVE_INDEX_FILE);
          if (existsSync(index)) timings.set(experimentId, await stageTimings(index));
        }
        const summary = await writeReport(opts.runDir, study?.studyId ?? id, summaries, study?.simulator ?? false, timings);
        process.stdout.write(`${passAtKTable(summary)}\n\nreport: ${summary.reportPath}\n`);
      } finally {
        await runtime.close();
      }
    });
}
