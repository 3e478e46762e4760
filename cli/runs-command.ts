import type { Command } from 'commander';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { ExperimentIdKey, IterationKey, MethodKey, StageKey } from '../contract/search-attribute-keys';
import { addInspectionOptions, withInspection, type InspectionFlags } from './inspection-options';

/** One experiment as visibility sees it (its newest run; started = its first run's start). */
export interface ExperimentRow {
  experimentId: string;
  workflowId: string;
  method: string | null;
  iteration: number | null;
  stage: string | null;
  status: string;
  startTime: string | null;
  closeTime: string | null;
  /** Runs of the workflow so far (one per iteration: continue-as-new). */
  runs: number;
}

export const EXPERIMENTS_QUERY = "WorkflowType = 'experimentWorkflow'";

function rowOf(info: WorkflowExecutionInfo): ExperimentRow {
  const sa = info.typedSearchAttributes;
  return {
    experimentId: sa.get(ExperimentIdKey) ?? info.workflowId,
    workflowId: info.workflowId,
    method: sa.get(MethodKey) ?? null,
    iteration: sa.get(IterationKey) ?? null,
    stage: sa.get(StageKey) ?? null,
    status: info.status.name,
    startTime: info.startTime?.toISOString() ?? null,
    closeTime: info.closeTime?.toISOString() ?? null,
    runs: 1,
  };
}

/** Every experiment workflow, one row per workflow id (all runs across continue-as-new folded), newest first. */
export async function listExperiments(client: Client): Promise<ExperimentRow[]> {
  const byId = new Map<string, { row: ExperimentRow; latestStart: string }>();
  for await (const info of client.workflow.list({ query: EXPERIMENTS_QUERY })) {
    const row = rowOf(info);
    const start = row.startTime ?? '';
    const seen = byId.get(info.workflowId);
    if (!seen) {
      byId.set(info.workflowId, { row, latestStart: start });
      continue;
    }
    const first = [seen.row.startTime, row.startTime].filter((s): s is string => s !== null).sort()[0] ?? null;
    const runs = seen.row.runs + 1;
    if (start > seen.latestStart) byId.set(info.workflowId, { row: { ...row, startTime: first, runs }, latestStart: start });
    else seen.row = { ...seen.row, startTime: first, runs };
  }
  return [...byId.values()].map((x) => x.row).sort((a, b) => (b.startTime ?? '').localeCompare(a.startTime ?? ''));
}

const COLUMNS: Array<[string, (r: ExperimentRow) => string]> = [
  ['EXPERIMENT', (r) => r.experimentId],
  ['METHOD', (r) => r.method ?? '-'],
  ['ITERATION', (r) => (r.iteration === null ? '-' : String(r.iteration))],
  ['STAGE', (r) => r.stage ?? '-'],
  ['STATUS', (r) => r.status],
  ['STARTED', (r) => (r.startTime ? r.startTime.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-')],
];

export function renderExperimentTable(rows: ExperimentRow[]): string {
  if (rows.length === 0) return 'no experiments (start one with `leafe run <spec>` or `leafe demo`)';
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  return cells.map((c) => c.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** `leafe runs`: experiments from Temporal visibility (search attributes ExperimentId, Method, Iteration, Stage). */
export function registerRunsCommand(program: Command): void {
  addInspectionOptions(
    program
      .command('runs')
      .description('list experiments: id, method, iteration, stage, status, start time (from Temporal visibility)')
      .option('--json', 'print the rows as JSON'),
  ).action(async (opts: InspectionFlags & { json?: boolean }) => {
    const rows = await withInspection(opts, (ctx) => listExperiments(ctx.client));
    process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : `${renderExperimentTable(rows)}\n`);
  });
}
