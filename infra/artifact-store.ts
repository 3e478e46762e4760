import { createHash } from 'node:crypto';
import { readFile, access } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file';
import path from 'node:path';
import type { Text } from '../core/text';

/** Texts longer than this many bytes go to the store; shorter ones stay inline in history. */
export const DEFAULT_INLINE_LIMIT = 4096;
const PREVIEW_CHARS = 200;

/**
 * Content-addressed blobs under `<runDir>/artifacts/sha256/ab/cdef...`. Writes are atomic
 * (temp file + rename) so a crash never leaves a half-written blob under its hash.
 */
export class ArtifactStore {
  constructor(readonly root: string, readonly inlineLimit = DEFAULT_INLINE_LIMIT) {}

  static forRunDir(runDir: string, inlineLimit?: number): ArtifactStore {
    return new ArtifactStore(path.join(runDir, 'artifacts'), inlineLimit);
  }

  pathOf(hash: string): string {
    return path.join(this.root, 'sha256', hash.slice(0, 2), hash.slice(2));
  }

  async put(data: string | Buffer): Promise<string> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const hash = createHash('sha256').update(buf).digest('hex');
    const file = this.pathOf(hash);
    try {
      await access(file);
      return hash;
    } catch {
      // not stored yet
    }
    await writeFileAtomic(file, buf);
    return hash;
  }

  async get(hash: string): Promise<Buffer> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`artifact ref: got ${JSON.stringify(hash)}, expected a sha256 hex digest`);
    return readFile(this.pathOf(hash));
  }

  async getText(hash: string): Promise<string> {
    return (await this.get(hash)).toString('utf8');
  }

  /** Wraps a text for history: inline when short, a ref with preview when long. */
  async toText(s: string): Promise<Text> {
    const bytes = Buffer.byteLength(s, 'utf8');
    if (bytes <= this.inlineLimit) return { inline: s };
    const ref = await this.put(s);
    return { ref, bytes, preview: s.slice(0, PREVIEW_CHARS) };
  }

  async resolve(t: Text): Promise<string> {
    return 'ref' in t ? this.getText(t.ref) : t.inline;
  }
}
