/**
 * HF-Trainer-style checkpoints: `<outputDir>/checkpoint-<global step>/`. A retried train
 * activity resumes from the newest complete one.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface Checkpoint {
  path: string;
  step: number;
}

/**
 * HF Trainer writes trainer_state.json into every checkpoint (LLaMA-Factory runs on the same
 * Trainer). A directory without it was most likely cut off mid-save by the crash being
 * recovered from, so it is skipped. Pass `completeMarker: null` to accept any directory.
 */
export const DEFAULT_COMPLETE_MARKER = 'trainer_state.json';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** All checkpoint directories, newest (highest step) first; incomplete ones excluded. */
export async function listCheckpoints(outputDir: string, completeMarker: string | null = DEFAULT_COMPLETE_MARKER): Promise<Checkpoint[]> {
  let names: string[];
  try {
    names = await readdir(outputDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found: Checkpoint[] = [];
  for (const name of names) {
    const m = /^checkpoint-(\d+)$/.exec(name);
    if (!m) continue;
    const dir = path.join(outputDir, name);
    if (!(await stat(dir)).isDirectory()) continue;
    if (completeMarker !== null && !(await exists(path.join(dir, completeMarker)))) continue;
    found.push({ path: dir, step: Number(m[1]) });
  }
  return found.sort((a, b) => b.step - a.step);
}

export async function findLatestCheckpoint(outputDir: string, completeMarker: string | null = DEFAULT_COMPLETE_MARKER): Promise<Checkpoint | null> {
  return (await listCheckpoints(outputDir, completeMarker))[0] ?? null;
}
