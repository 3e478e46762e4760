import type { EnvSpec } from '../core/env-spec';
import type { EpisodeTimeouts, InferenceSettings, LeafeSettings } from '../core/leafe-settings';
import type { Text } from '../core/text';
import type { BranchRecord } from '../core/tree';
import type { TaskQueues } from './task-queues';

/** Input of one episode: explore one task as a tree. */
export interface EpisodeInput {
  taskId: string;
  env: EnvSpec;
  /** Seeds the environment and every sampling request of the episode. */
  seed: number;
  inference: InferenceSettings;
  leafe: LeafeSettings;
  queues: TaskQueues;
  timeouts?: Partial<EpisodeTimeouts>;
}

/** A branch waiting in the episode's BFS queue: where it starts and with which lesson. */
export interface QueuedBranch {
  parent: string | null;
  depth: number;
  tau: number | null;
  experience: string | null;
  /** Actions a₁..a_{τ-1} to replay. */
  prefix: Text[];
}

/** A request to re-do step τ with a lesson, produced by a reflection. */
export interface BranchRequest {
  tau: number;
  experience: string;
  /** Trajectory length when the reflection was made. */
  fromStep: number;
}

export interface BranchInput {
  episodeId: string;
  branchId: string;
  parent: string | null;
  depth: number;
  tau: number | null;
  experience: string | null;
  /** Actions a₁..a_{τ-1} to replay. */
  prefix: Text[];
  taskId: string;
  env: EnvSpec;
  seed: number;
  inference: InferenceSettings;
  leafe: LeafeSettings;
  /** New environment steps this branch may take (what is left of the episode's budget). */
  allowance: number;
  /** Whether reflections may ask for new branches (depth and branch limits not yet reached). */
  canRequestBranches: boolean;
  /** Branch slots left in the episode: reflections stop once this many requests are made. Absent in older histories (no limit). */
  maxRequests?: number;
  queues: TaskQueues;
  timeouts: EpisodeTimeouts;
}

export interface BranchResult {
  record: BranchRecord;
  /** Branch requests from interval reflections (the branch went on) and the final rollback. */
  requests: BranchRequest[];
  initialObservation: Text;
  instructions: Text;
}
