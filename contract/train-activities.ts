import type { TrainerConfig } from './experiment-config';
import type { DistilStageResult } from './distil-activities';

/**
 * The SFT stage (train queue): runs the trainer command with heartbeats carrying its progress
 * (`Progress`, contract/trainer-port.ts). A retry after a crash resumes from the newest
 * checkpoint; cancellation kills the trainer; config errors fail without retrying.
 */
export interface TrainActivities {
  trainAdapter(input: TrainStageInput): Promise<TrainStageResult>;
}

export interface TrainStageInput {
  trainer: TrainerConfig;
  dataset: DistilStageResult;
  /** Relative to the run directory; deterministic per experiment and iteration so a retry resumes. */
  outputDir: string;
  /** The adapter trained in the previous iteration (model lineage), if any. */
  previousAdapter: string | null;
}

export interface TrainStageResult {
  adapterPath: string;
  resumedFrom: string | null;
  finalCheckpoint: string | null;
  steps: number | null;
}
