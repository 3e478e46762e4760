import type { ExperimentSummary } from '../contract/experiment-config';

/** An experiment of a study that has no result: still running, failed, terminated, cancelled or gone. */
export interface IncompleteExperiment {
  method: string | null;
  experimentId: string;
  /** The workflow status (FAILED, TERMINATED, RUNNING...) or NOT_FOUND. */
  status: string;
  failure: string | null;
}

/** The JSON summary `leafe run --json` and `leafe demo --json` print. */
export interface StudySummary {
  studyId: string;
  env: string;
  reportPath: string;
  simulator: boolean;
  experiments: Record<string, string>;
  methods: Record<string, Array<{ iteration: number; model: string; passAtK: Record<string, number> }>>;
  /** Experiments left out of the tables because they have no result (a partial report). */
  incomplete?: IncompleteExperiment[];
}

export function studySummary(studyId: string, summaries: ExperimentSummary[], reportPath: string, simulator: boolean): StudySummary {
  return {
    studyId,
    env: summaries[0]?.env ?? 'unknown',
    reportPath,
    simulator,
    experiments: Object.fromEntries(summaries.map((s) => [s.method, s.experimentId])),
    methods: Object.fromEntries(
      summaries.map((s) => [s.method, s.iterations.map((r) => ({ iteration: r.iteration, model: r.model, passAtK: r.evaluation.passAtK }))]),
    ),
  };
}

/** A plain-text Pass@k table: one row per method and iteration. */
export function passAtKTable(summary: StudySummary): string {
  const ks = [...new Set(Object.values(summary.methods).flatMap((rows) => rows.flatMap((r) => Object.keys(r.passAtK).map(Number))))].sort((a, b) => a - b);
  const header = ['method', 'iter', ...ks.map((k) => `pass@${k}`)];
  const rows = Object.entries(summary.methods).flatMap(([method, iters]) =>
    iters.map((r) => [method, String(r.iteration), ...ks.map((k) => (r.passAtK[String(k)] === undefined ? '-' : r.passAtK[String(k)].toFixed(3)))]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
