import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EpisodeTree } from '../../core/tree';
import type { ArtifactStore } from '../../infra/artifact-store';

/**
 * Small activities the orchestration worker runs against the run directory: trees and stage
 * results go to files so histories carry only refs, and a re-run stage finds its result
 * instead of redoing the work.
 */
export function createStoreActivities(deps: { store: ArtifactStore; runDir: string }) {
  const stageFile = (key: string) => path.join(deps.runDir, 'stages', `${key.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
  return {
    async saveTree(tree: EpisodeTree): Promise<string> {
      return deps.store.put(JSON.stringify(tree));
    },

    async saveJson(value: unknown): Promise<string> {
      return deps.store.put(JSON.stringify(value));
    },

    /** The stored result of a finished stage, or null. */
    async lookupStage(key: string): Promise<unknown> {
      try {
        return JSON.parse(await readFile(stageFile(key), 'utf8')) as unknown;
      } catch {
        return null;
      }
    },

    async recordStage(key: string, value: unknown): Promise<void> {
      const file = stageFile(key);
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(value, null, 2));
      await rename(tmp, file);
    },

    async writeJsonFile(relativePath: string, value: unknown): Promise<string> {
      const file = path.join(deps.runDir, relativePath);
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(value, null, 2));
      await rename(tmp, file);
      return file;
    },
  };
}

export type StoreActivities = ReturnType<typeof createStoreActivities>;
