import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowClient } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ARCHIVE_INDEX_FILE, archiveDirOf, type ArchivedHistoryFile, type ArchivedRun, type ArchiveResult } from '../infra/archive-layout';
import { safeFileName, writeFileAtomic } from '../infra/atomic-file';
import { historyToJson } from '../infra/history-json';

/**
 * Visibility query for every run of an experiment: the experiment workflow itself (one run per
 * iteration, continue-as-new) and every descendant, whose ids all start with `<experimentId>/`.
 */
export function experimentWorkflowsQuery(experimentId: string): string {
  const quoted = JSON.stringify(experimentId);
  const prefix = JSON.stringify(`${experimentId}/`);
  return `WorkflowId = ${quoted} OR WorkflowId STARTS_WITH ${prefix}`;
}

const CLOSE_EVENTS = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELED', 'TERMINATED', 'CONTINUED_AS_NEW']);

/** Status from the history itself (visibility may lag behind a workflow that just closed). */
function statusOfHistory(lastEventType: number | null | undefined): string {
  const name = temporal.api.enums.v1.EventType[lastEventType ?? 0] ?? '';
  const status = name.replace(/^EVENT_TYPE_WORKFLOW_EXECUTION_/, '');
  return CLOSE_EVENTS.has(status) ? status : 'RUNNING';
}

/**
 * Exports the history of every run of an experiment as proto3 JSON, one file per workflow run,
 * plus an index. Re-running it overwrites the files (histories of closed runs do not change).
 * Runs on the client side: an experiment cannot export its own history while it is still open.
 */
export async function archiveExperiment(opts: { workflows: WorkflowClient; experimentId: string; runDir: string }): Promise<ArchiveResult> {
  const { workflows, experimentId } = opts;
  if (typeof experimentId !== 'string' || experimentId === '') throw new Error(`archive: experimentId = ${JSON.stringify(experimentId)}, expected a non-empty workflow id`);
  const dir = archiveDirOf(opts.runDir, experimentId);
  await mkdir(dir, { recursive: true });
  const runs: ArchivedRun[] = [];
  const recordedAt = new Date().toISOString();
  for await (const info of workflows.list({ query: experimentWorkflowsQuery(experimentId) })) {
    const history = await workflows.getHandle(info.workflowId, info.runId).fetchHistory();
    const events = history.events ?? [];
    const status = statusOfHistory(events.at(-1)?.eventType);
    const file = `${safeFileName(info.workflowId)}.${info.runId}.json`;
    const content: ArchivedHistoryFile = { workflowType: info.type, workflowId: info.workflowId, runId: info.runId, status, recordedAt, history: historyToJson(history) };
    await writeFileAtomic(path.join(dir, file), `${JSON.stringify(content)}\n`);
    runs.push({
      workflowId: info.workflowId,
      runId: info.runId,
      workflowType: info.type,
      status,
      startTime: info.startTime?.toISOString() ?? null,
      closeTime: info.closeTime?.toISOString() ?? null,
      events: events.length,
      file,
    });
  }
  if (runs.length === 0) {
    throw new Error(`archive: no workflow matches ${experimentWorkflowsQuery(experimentId)}; expected the id of an experiment (see \`leafe runs\`) whose histories are still retained by the server`);
  }
  runs.sort((a, b) => (a.startTime ?? '').localeCompare(b.startTime ?? '') || a.workflowId.localeCompare(b.workflowId));
  const indexFile = path.join(dir, ARCHIVE_INDEX_FILE);
  const result: ArchiveResult = { experimentId, dir, indexFile, archivedAt: recordedAt, runs };
  await writeFileAtomic(indexFile, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
