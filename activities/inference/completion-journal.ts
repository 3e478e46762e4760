import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../infra/atomic-file';

/** What identifies one inference request of a branch: the same key means the same request. */
export interface CompletionKey {
  workflowId: string;
  t: number;
  kind: 'act' | 'reflect';
  seed: number;
  /** Hash of the trajectory the prompt is rendered from. */
  trajectoryRef: string;
  experience: string | null;
  model: string;
}

/**
 * Completed inference requests, one file each under `<runDir>/completions/`. An activity that
 * both asks the model and steps the environment writes the completion here before stepping,
 * so a retry after a crash (or after a failed step) reuses it: a completed request is never
 * asked again. The files double as an audit record of every completion.
 */
export class CompletionJournal {
  constructor(readonly root: string) {}

  static forRunDir(runDir: string): CompletionJournal {
    return new CompletionJournal(path.join(runDir, 'completions'));
  }

  private fileOf(key: CompletionKey): string {
    const id = createHash('sha256').update(JSON.stringify(key)).digest('hex');
    return path.join(this.root, id.slice(0, 2), `${id.slice(2)}.json`);
  }

  async get<T>(key: CompletionKey): Promise<T | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.fileOf(key), 'utf8')) as { key: CompletionKey; completion: T };
      return entry.completion;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put<T>(key: CompletionKey, completion: T): Promise<void> {
    await writeFileAtomic(this.fileOf(key), JSON.stringify({ key, completion }));
  }

  /** The stored completion for `key`, or `ask()`'s, stored before it is returned. */
  async once<T>(key: CompletionKey, ask: () => Promise<T>): Promise<{ completion: T; reused: boolean }> {
    const stored = await this.get<T>(key);
    if (stored !== undefined) return { completion: stored, reused: true };
    const completion = await ask();
    await this.put(key, completion);
    return { completion, reused: false };
  }
}
