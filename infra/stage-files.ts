import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { safeFileName } from './atomic-file';

/** Recorded stage results: `<runDir>/stages/<stage key as a file name>.json`. */
export function stagesDir(runDir: string): string {
  return path.join(runDir, 'stages');
}

export function stageResultFile(runDir: string, key: string): string {
  return path.join(stagesDir(runDir), `${safeFileName(key)}.json`);
}

/** Whether any stage result whose key starts with `keyPrefix` is recorded. */
export async function hasStageResultsUnder(runDir: string, keyPrefix: string): Promise<boolean> {
  const prefix = safeFileName(keyPrefix);
  const files = await readdir(stagesDir(runDir)).catch(() => [] as string[]);
  return files.some((f) => f.startsWith(prefix));
}
