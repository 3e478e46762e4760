import type { DistilSettings } from '../core/leafe-settings';
import type { Method } from './experiment-config';

/** Distil (workflows queue): D_cf from branching events and D_reh from successful trajectories, written for trainers. */
export interface DistilActivities {
  distilDatasets(input: DistilStageInput): Promise<DistilStageResult>;
}

export interface DistilStageInput {
  experimentId: string;
  iteration: number;
  method: Exclude<Method, 'base'>;
  /** Artifact refs of the explored trees. */
  treeRefs: string[];
  settings: DistilSettings;
  seed: number;
  /** Relative to the run directory. */
  outDir: string;
}

export interface DistilStageResult {
  dir: string;
  promptCompletionFile: string;
  messagesFile: string;
  provenanceFile: string;
  trlDatasetDir: string;
  datasetInfoDir: string;
  sha256: string;
  cf: number;
  reh: number;
  records: number;
}
