import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TrainActivities, TrainStageInput, TrainStageResult } from '../../contract/train-activities';
import { TrainerAbortedError, TrainerConfigError, TrainerCrashError, type TrainerRunner } from '../../contract/trainer-port';
import { TRAINER_CONFIG_ERROR, TRAINER_CRASH_ERROR } from '../../contract/failure-types';
import { runDirPath } from '../run-dir-path';

/**
 * The SFT stage (train queue): runs the trainer command as a child process (through the injected
 * runner, trainer/run-trainer-command.ts) with heartbeats carrying its progress. A retry after a
 * crash resumes from the newest checkpoint in the output directory; cancellation kills the
 * trainer's process group; config errors fail without retrying.
 */
export function createTrainActivities(deps: { runDir: string; runTrainer: TrainerRunner }): TrainActivities {
  return {
    async trainAdapter(input: TrainStageInput): Promise<TrainStageResult> {
      const ctx = Context.current();
      const outputDir = runDirPath(deps.runDir, input.outputDir);
      const trainer = input.trainer;
      // Experiments started before the simulated trainer became a command trainer ask for `kind: sim`.
      if (trainer.kind !== 'command') throw ApplicationFailure.nonRetryable(`trainer.kind ${JSON.stringify(trainer.kind)}: expected a command trainer (the simulated trainer is one since spec/sim-trainer.ts); start the experiment again`, TRAINER_CONFIG_ERROR);
      const hyper = Object.fromEntries(Object.entries(trainer.hyperparameters).map(([k, v]) => [k, String(v)]));
      const placeholders: Record<string, string> = {
        ...hyper,
        base_model: trainer.baseModel,
        train_file: input.dataset.promptCompletionFile,
        messages_file: input.dataset.messagesFile,
        trl_dataset_dir: input.dataset.trlDatasetDir,
        dataset_dir: input.dataset.datasetInfoDir,
        init_adapter: input.previousAdapter ?? '',
      };
      try {
        const result = await deps.runTrainer({
          command: trainer.command,
          placeholders,
          cwd: trainer.cwd,
          env: trainer.env,
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
