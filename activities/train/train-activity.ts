import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TrainerConfig } from '../../core/experiment-config';
import { PROJECT_ROOT } from '../../infra/paths';
import { DEFAULT_BASE_SKILL } from '../../sim/sim-server';
import { ADAPTER_FILE } from '../../sim/sim-trainer';
import type { DistilStageResult } from '../distil/distil-activity';
import { runTrainerCommand, TrainerAbortedError, TrainerConfigError, TrainerCrashError } from './run-trainer-command';
import { TRAINER_CONFIG_ERROR, TRAINER_CRASH_ERROR } from '../../core/failure-types';

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

/** The simulated trainer is a real child process, so the command path is exercised end to end. */
function simCommand(trainer: Extract<TrainerConfig, { kind: 'sim' }>): string[] {
  return [
    process.execPath,
    '--import',
    'tsx',
    path.join(PROJECT_ROOT, 'sim', 'sim-train-cli.ts'),
    '--data',
    '{{train_file}}',
    '--output-dir',
    '{{output_dir}}',
    '--base-skill',
    '{{init_adapter_or_base_skill}}',
    '--epochs',
    String(trainer.epochs),
    '--steps-per-epoch',
    String(trainer.stepsPerEpoch),
    '--step-ms',
    String(trainer.stepMs),
    '--resume-from-checkpoint={{resume_from_checkpoint?}}',
  ];
}

/**
 * The SFT stage (train queue): runs the trainer as a child process with heartbeats carrying its
 * progress. A retry after a crash resumes from the newest checkpoint in the output directory;
 * cancellation kills the trainer's process group; config errors fail without retrying.
 */
export function createTrainActivities(deps: { runDir: string }) {
  return {
    async trainAdapter(input: TrainStageInput): Promise<TrainStageResult> {
      const ctx = Context.current();
      const outputDir = path.join(deps.runDir, input.outputDir);
      const trainer = input.trainer;
      const command = trainer.kind === 'sim' ? simCommand(trainer) : trainer.command;
      const hyper = trainer.kind === 'command' ? Object.fromEntries(Object.entries(trainer.hyperparameters).map(([k, v]) => [k, String(v)])) : {};
      const placeholders: Record<string, string> = {
        ...hyper,
        base_model: trainer.kind === 'command' ? trainer.baseModel : 'sim-base',
        train_file: input.dataset.promptCompletionFile,
        messages_file: input.dataset.messagesFile,
        trl_dataset_dir: input.dataset.trlDatasetDir,
        dataset_dir: input.dataset.datasetInfoDir,
        init_adapter: input.previousAdapter ?? '',
        init_adapter_or_base_skill: input.previousAdapter
          ? path.join(input.previousAdapter, ADAPTER_FILE)
          : JSON.stringify({ ...DEFAULT_BASE_SKILL, ...(trainer.kind === 'sim' ? trainer.baseSkill : {}) }),
      };
      try {
        const result = await runTrainerCommand({
          command,
          placeholders,
          cwd: trainer.kind === 'command' ? trainer.cwd : PROJECT_ROOT,
          env: trainer.kind === 'command' ? trainer.env : undefined,
          outputDir,
          logFile: path.join(outputDir, 'trainer.log'),
          heartbeat: (p) => ctx.heartbeat(p),
          signal: ctx.cancellationSignal,
          heartbeatEveryMs: 2000,
          killGraceMs: 5000,
        });
        return { adapterPath: outputDir, resumedFrom: result.resumedFrom, finalCheckpoint: result.finalCheckpoint, steps: result.progress.step ?? null };
      } catch (err) {
        if (err instanceof TrainerConfigError) throw ApplicationFailure.nonRetryable(err.message, TRAINER_CONFIG_ERROR, err.details);
        if (err instanceof TrainerCrashError) throw ApplicationFailure.retryable(err.message, TRAINER_CRASH_ERROR, err.details);
        if (err instanceof TrainerAbortedError) throw err.cause ?? err;
        throw err;
      }
    },
  };
}

export type TrainActivities = ReturnType<typeof createTrainActivities>;
