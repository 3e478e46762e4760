import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExperimentSummary } from '../contract/experiment-config';
import type { EpisodeTree } from '../core/tree';
import { ArtifactStore } from '../infra/artifact-store';
import { passAtKChart, type Curve } from './pass-at-k-chart';
import { passAtKTable, studySummary, type IncompleteExperiment, type StudySummary } from './study-summary';
import type { StageTiming } from './stage-timings';
import { treeStats } from './tree-stats';

async function loadTrees(store: ArtifactStore, treesRef: string): Promise<EpisodeTree[]> {
  const list = JSON.parse(await store.getText(treesRef)) as Array<{ treeRef: string }>;
  return Promise.all(list.map(async (e) => JSON.parse(await store.getText(e.treeRef)) as EpisodeTree));
}

/**
 * Writes `<runDir>/reports/<studyId>/report.md` and `pass-at-k.svg`: Pass@k per method and
 * iteration, the curves, exploration tree statistics and token usage.
 */
export async function writeReport(
  runDir: string,
  studyId: string,
  summaries: ExperimentSummary[],
  simulator: boolean,
  timings: Map<string, StageTiming[]> = new Map(),
  incomplete: IncompleteExperiment[] = [],
): Promise<StudySummary> {
  const dir = path.join(runDir, 'reports', studyId);
  await mkdir(dir, { recursive: true });
  const reportPath = path.join(dir, 'report.md');
  const summary: StudySummary = { ...studySummary(studyId, summaries, reportPath, simulator), ...(incomplete.length > 0 ? { incomplete } : {}) };
  const store = ArtifactStore.forRunDir(runDir);

  const curves: Curve[] = summaries.flatMap((s) =>
    s.iterations.map((r) => ({
      label: `${s.method} it${r.iteration}`,
      points: Object.entries(r.evaluation.passAtK).map(([k, p]) => ({ k: Number(k), p })).sort((a, b) => a.k - b.k),
    })),
  );
  await writeFile(path.join(dir, 'pass-at-k.svg'), passAtKChart(curves, `Pass@k: ${studyId}${simulator ? ' (simulator)' : ''}`));

  const lines: string[] = [`# Study ${studyId}`, ''];
  if (simulator) lines.push('> **The model here is the built-in simulator** (a scripted stand-in for an LLM and a trainer). These numbers test the pipeline; they are not model results.', '');
  else lines.push(`> Model: \`${summaries[0]?.iterations[0]?.model ?? '?'}\` (real inference) at iteration 0, then the LoRA adapters listed under "Training data and models".`, '');
  lines.push(`Environment: \`${summary.env}\`. Experiments: ${Object.entries(summary.experiments).map(([m, id]) => `${m} = \`${id}\``).join(', ')}.`, '');
  if (incomplete.length > 0) {
    // A partial report: what completed is below; these have no result and appear in no table.
    lines.push('## Experiments without a result (not in the tables below)', '', '| method | experiment | status | reason |', '|---|---|---|---|');
    for (const x of incomplete) lines.push(`| ${x.method ?? '-'} | \`${x.experimentId}\` | **${x.status}** | ${(x.failure ?? '-').replace(/\s+/g, ' ').replace(/\|/g, '\\|')} |`);
    lines.push('');
  }
  lines.push('## Pass@k', '', '```', passAtKTable(summary), '```', '', '![Pass@k curves](pass-at-k.svg)', '');
  lines.push('## Per-task successes (last iteration)', '');
  for (const s of summaries) {
    const last = s.iterations[s.iterations.length - 1];
    lines.push(`- **${s.method}** it${last.iteration}: ${last.evaluation.counts.map((c) => `${c.taskId} ${c.c}/${c.n}`).join(', ')}`);
  }
  lines.push('', '## Exploration trees', '', '| method | iter | episodes | solved | branches/task | mean rollback distance | max depth | budget used | replayed steps | invalid reflections |', '|---|---|---|---|---|---|---|---|---|---|');
  const isolation = new Set<string>();
  for (const s of summaries) {
    for (const r of s.iterations) {
      if (!r.explore) continue;
      const st = treeStats(await loadTrees(store, r.explore.treesRef));
      st.isolation.forEach((level) => isolation.add(level));
      lines.push(`| ${s.method} | ${r.iteration} | ${st.episodes} | ${st.solved} | ${st.branchesPerTask.toFixed(2)} | ${st.meanRollbackDistance.toFixed(2)} | ${st.maxDepth} | ${st.budgetUsed}/${st.budgetLimit} | ${st.replayedSteps} | ${st.invalidReflections} |`);
    }
  }
  if (isolation.size > 0) lines.push('', `Sandbox isolation of the actions (from the trees): ${[...isolation].sort().join(', ')} (see docs/sandbox.md).`);
  lines.push('', '## Training data and models', '', '| method | iter | model | cf records | reh records | dataset sha256 | adapter | tokens (prompt / completion, exploration) |', '|---|---|---|---|---|---|---|---|');
  for (const s of summaries) {
    for (const r of s.iterations) {
      lines.push(`| ${s.method} | ${r.iteration} | \`${r.model}\` | ${r.dataset?.cf ?? '-'} | ${r.dataset?.reh ?? '-'} | ${r.dataset ? `\`${r.dataset.sha256.slice(0, 12)}\`` : '-'} | ${r.deploy ? `\`${r.deploy.model}\`` : '-'} | ${r.usage.promptTokens} / ${r.usage.completionTokens} |`);
    }
  }
  if (timings.size > 0) {
    const stages = ['evaluate', 'explore', 'distil', 'train', 'deploy'] as const;
    lines.push('', '## Wall time per stage (seconds, from the archived histories)', '', `| method | iter | ${stages.join(' | ')} |`, `|---|---|${stages.map(() => '---').join('|')}|`);
    for (const s of summaries) {
      const t = timings.get(s.experimentId) ?? [];
      for (const r of s.iterations) {
        const cell = (stage: (typeof stages)[number]) => t.find((x) => x.iteration === r.iteration && x.stage === stage)?.seconds.toFixed(0) ?? '-';
        lines.push(`| ${s.method} | ${r.iteration} | ${stages.map(cell).join(' | ')} |`);
      }
    }
  }
  lines.push('');
  await writeFile(reportPath, lines.join('\n'));
  await writeFile(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  return summary;
}
