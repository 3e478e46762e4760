import path from 'node:path';
import { DEFAULT_BASE_SKILL, type SimSkill } from '../contract/sim-skill';
import type { TrainerConfig } from '../contract/experiment-config';
import { PROJECT_ROOT } from '../infra/paths';

/** `trainer.kind: sim` in a spec (its defaults filled in). */
export interface SimTrainerSettings {
  epochs: number;
  stepsPerEpoch: number;
  stepMs: number;
}

/**
 * The simulated trainer as the command trainer it is: sim/sim-train-cli.ts runs as a real child
 * process, so the command path (progress, checkpoint resume, kill, config errors) is exercised
 * end to end. Iteration 0 trains on top of `baseSkill` (the simulator's base model), later ones
 * on top of the previous iteration's adapter.
 */
export function simTrainer(t: SimTrainerSettings, baseSkill: SimSkill = DEFAULT_BASE_SKILL): TrainerConfig {
  return {
    kind: 'command',
    command: [
      process.execPath,
      '--import',
      'tsx',
      path.join(PROJECT_ROOT, 'sim', 'sim-train-cli.ts'),
      '--data',
      '{{train_file}}',
      '--output-dir',
      '{{output_dir}}',
      '--base-skill',
      '{{base_skill}}',
      '--init-adapter={{init_adapter?}}',
      '--epochs',
      '{{epochs}}',
      '--steps-per-epoch',
      '{{steps_per_epoch}}',
      '--step-ms',
      '{{step_ms}}',
      '--resume-from-checkpoint={{resume_from_checkpoint?}}',
    ],
    baseModel: 'sim-base',
    hyperparameters: { epochs: t.epochs, steps_per_epoch: t.stepsPerEpoch, step_ms: t.stepMs, base_skill: JSON.stringify(baseSkill) },
    cwd: PROJECT_ROOT,
  };
}
