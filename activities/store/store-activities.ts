import { readFile } from 'node:fs/promises';
import type { StoreActivities } from '../../contract/store-activities';
import type { EpisodeTree } from '../../core/tree';
import type { ArtifactStore } from '../../infra/artifact-store';
import { writeFileAtomic } from '../../infra/atomic-file';
import { stageResultFile } from '../../infra/stage-files';
import { runDirPath } from '../run-dir-path';

/**
 * Small activities the orchestration worker runs against the run directory: trees and stage
 * results go to files so histories carry only refs, and a re-run stage finds its result
 * instead of redoing the work.
 */
export function createStoreActivities(deps: { store: ArtifactStore; runDir: string }): StoreActivities {
  const stageFile = (key: string) => stageResultFile(deps.runDir, key);
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
      await writeFileAtomic(stageFile(key), JSON.stringify(value, null, 2));
    },

    async writeJsonFile(relativePath: string, value: unknown): Promise<string> {
      const file = runDirPath(deps.runDir, relativePath);
      await writeFileAtomic(file, JSON.stringify(value, null, 2));
      return file;
    },
  };
}
