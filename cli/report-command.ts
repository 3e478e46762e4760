import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ARCHIVE_INDEX_FILE, archiveDirOf } from '../infra/archive-layout';
import { stageTimings, type StageTiming } from '../report/stage-timings';
import type { ExperimentSummary } from '../contract/experiment-config';
import { defaultRunDir } from '../infra/paths';
import { passAtKTable, type IncompleteExperiment } from '../report/study-summary';
import { writeReport } from '../report/write-report';
import { startLocalRuntime } from './local-runtime';
import { experimentSnapshot } from './status-command';
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
        const methodOf = new Map(Object.entries(study?.experiments ?? {}).map(([method, experimentId]) => [experimentId, method]));
        const summaries: ExperimentSummary[] = [];
        const incomplete: IncompleteExperiment[] = [];
        for (const experimentId of experimentIds) {
          const snap = await experimentSnapshot(runtime.client, experimentId).catch((err: unknown) => {
            if (!study) throw new Error(`id: ${JSON.stringify(id)} is neither a study in ${opts.runDir}/studies nor an experiment workflow; expected an id printed by \`leafe run\``);
            return err instanceof Error ? err : new Error(String(err));
          });
          const method = methodOf.get(experimentId) ?? null;
          if (snap instanceof Error) incomplete.push({ method, experimentId, status: 'NOT_FOUND', failure: snap.message });
          else if (snap.state === 'closed' && snap.result) summaries.push(snap.result);
          else incomplete.push({ method, experimentId, status: snap.workflowStatus, failure: snap.state === 'closed' ? snap.failure : 'still running; its results are not final' });
        }
        // One failed experiment does not hide the others: report what completed, list the rest.
        if (summaries.length === 0) {
          throw new Error(`id: ${JSON.stringify(id)} has no COMPLETED experiment (${incomplete.map((x) => `${x.experimentId} ${x.status}`).join(', ')}); a report needs at least one (see \`leafe status <experimentId>\`)`);
        }
        // Stage wall times come from the archived histories (`leafe archive`), when there are any.
        const timings = new Map<string, StageTiming[]>();
        for (const experimentId of experimentIds) {
          const index = path.join(archiveDirOf(opts.runDir, experimentId), ARCHIVE_INDEX_FILE);
          if (existsSync(index)) timings.set(experimentId, await stageTimings(index));
        }
        const summary = await writeReport(opts.runDir, study?.studyId ?? id, summaries, study?.simulator ?? false, timings, incomplete);
        const missing = incomplete.map((x) => `${x.method ?? x.experimentId} (${x.experimentId}): ${x.status}${x.failure ? ` — ${x.failure}` : ''}\n`).join('');
        process.stdout.write(`${passAtKTable(summary)}\n${missing ? `\nPARTIAL REPORT: without a result:\n${missing}` : ''}\nreport: ${summary.reportPath}\n`);
      } finally {
        await runtime.close();
      }
    });
}
