import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file via a temp file + rename, creating its folder: a crash never leaves a
 * half-written file under the final name (stage results, datasets, archives, artifacts).
 */
export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

/** An id (workflow id, stage key) as one safe file name. */
export function safeFileName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}
