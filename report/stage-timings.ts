import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveResult, ArchivedHistoryFile } from '../infra/archive-layout';

/** Wall time of one stage of one iteration, read back from the archived workflow histories. */
export interface StageTiming {
  iteration: number;
  stage: 'evaluate' | 'explore' | 'distil' | 'train' | 'deploy';
  seconds: number;
}

interface HistoryEvent {
  eventId: string;
  eventTime: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  activityTaskCompletedEventAttributes?: { scheduledEventId?: string };
}

const ACTIVITY_STAGES: Record<string, StageTiming['stage']> = { distilDatasets: 'distil', trainAdapter: 'train', deployAdapter: 'deploy' };
const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

/**
 * Stage wall times of an archived experiment (`leafe archive`): evaluate and explore from their
 * child workflows' start and close times, distil/train/deploy from the experiment's activity
 * events (scheduled → completed, retries included). Each run of the experiment (continue-as-new)
 * is one iteration.
 */
export async function stageTimings(archiveIndexFile: string): Promise<StageTiming[]> {
  const index = JSON.parse(await readFile(archiveIndexFile, 'utf8')) as ArchiveResult;
  const dir = path.dirname(archiveIndexFile);
  const out: StageTiming[] = [];
  const runs = index.runs.filter((r) => r.startTime && r.closeTime);
  for (const r of runs) {
    const m = /\/it(\d+)\/evaluate$/.exec(r.workflowId);
    if (m) out.push({ iteration: Number(m[1]), stage: 'evaluate', seconds: seconds(r.startTime!, r.closeTime!) });
  }
  const explore = new Map<number, { start: string; close: string }>();
  for (const r of runs) {
    const m = /\/it(\d+)\/explore\/[^]*$/.exec(r.workflowId);
    if (!m || r.workflowType === 'branchWorkflow') continue;
    const it = Number(m[1]);
    const span = explore.get(it) ?? { start: r.startTime!, close: r.closeTime! };
    if (r.startTime! < span.start) span.start = r.startTime!;
    if (r.closeTime! > span.close) span.close = r.closeTime!;
    explore.set(it, span);
  }
  for (const [iteration, span] of explore) out.push({ iteration, stage: 'explore', seconds: seconds(span.start, span.close) });
  const experimentRuns = runs.filter((r) => r.workflowType === 'experimentWorkflow').sort((a, b) => a.startTime!.localeCompare(b.startTime!));
  for (const [iteration, run] of experimentRuns.entries()) {
    const file = JSON.parse(await readFile(path.join(dir, run.file), 'utf8')) as ArchivedHistoryFile;
    const events = (file.history as { events: HistoryEvent[] }).events;
    const scheduled = new Map<string, { stage: StageTiming['stage']; time: string }>();
    const firstScheduled = new Map<StageTiming['stage'], string>();
    for (const e of events) {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (name && ACTIVITY_STAGES[name]) {
        scheduled.set(e.eventId, { stage: ACTIVITY_STAGES[name], time: e.eventTime });
        if (!firstScheduled.has(ACTIVITY_STAGES[name])) firstScheduled.set(ACTIVITY_STAGES[name], e.eventTime);
      }
      const done = e.activityTaskCompletedEventAttributes?.scheduledEventId;
      const s = done ? scheduled.get(done) : undefined;
      if (s) out.push({ iteration, stage: s.stage, seconds: seconds(firstScheduled.get(s.stage)!, e.eventTime) });
    }
  }
  const order: StageTiming['stage'][] = ['evaluate', 'explore', 'distil', 'train', 'deploy'];
  return out.sort((a, b) => a.iteration - b.iteration || order.indexOf(a.stage) - order.indexOf(b.stage));
}
