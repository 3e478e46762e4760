import path from 'node:path';
import { safeFileName } from './atomic-file';

/** One exported workflow run: `<runDir>/archive/<experimentId>/<file>`. */
export interface ArchivedRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** From the history's last event: COMPLETED, CONTINUED_AS_NEW, FAILED... or RUNNING. */
  status: string;
  startTime: string | null;
  closeTime: string | null;
  events: number;
  file: string;
}

export interface ArchiveResult {
  experimentId: string;
  dir: string;
  indexFile: string;
  archivedAt: string;
  runs: ArchivedRun[];
}

/** What each archived file holds (the same shape as test/fixtures/histories, so it can be replayed). */
export interface ArchivedHistoryFile {
  workflowType: string;
  workflowId: string;
  runId: string;
  status: string;
  recordedAt: string;
  /** proto3 JSON of temporal.api.history.v1.History. */
  history: unknown;
}

export const ARCHIVE_DIR = 'archive';
export const ARCHIVE_INDEX_FILE = 'index.json';

export function archiveDirOf(runDir: string, experimentId: string): string {
  return path.join(runDir, ARCHIVE_DIR, safeFileName(experimentId));
}
