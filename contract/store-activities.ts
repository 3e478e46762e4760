import type { EpisodeTree } from '../core/tree';

/**
 * Small activities the orchestration worker runs against the run directory: trees and stage
 * results go to files so histories carry only refs, and a re-run stage finds its result
 * instead of redoing the work.
 */
export interface StoreActivities {
  saveTree(tree: EpisodeTree): Promise<string>;
  saveJson(value: unknown): Promise<string>;
  /** The stored result of a finished stage, or null. */
  lookupStage(key: string): Promise<unknown>;
  recordStage(key: string, value: unknown): Promise<void>;
  /** Writes `value` as JSON under the run directory; returns the file's path. */
  writeJsonFile(relativePath: string, value: unknown): Promise<string>;
}
