import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Live progress of an experiment, answered by the `status` query. */
export interface ExperimentStatus {
  experimentId: string;
  method: string;
  iteration: number;
  iterations: number;
  stage: string;
  paused: boolean;
  tasksDone: number;
  tasksTotal: number;
  budgetUsed: number;
  concurrency: number;
  lastPassAtK: Record<string, number> | null;
}

export const statusQuery = defineQuery<ExperimentStatus>('status');
/** Pause: running activities and children finish; nothing new starts. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Change how many episodes run at once: exploration live, an evaluation from its start. Kept across iterations. */
export const setConcurrencySignal = defineSignal<[number]>('setConcurrency');
