import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SIM_TRAINER } from '../core/leafe-settings';
import { ADAPTER_FILE, parseSimSkill, runSimTraining, SimulatedCrash, TrainingDataError } from './sim-trainer';

/**
 * Simulated trainer as a child process, so the project's command-trainer path (progress parsing,
 * checkpoint resume, kill, config errors) is exercised without a GPU. Exit codes: 0 done,
 * 2 bad argument (not worth retrying), 137 simulated crash (like an OOM kill), 1 other failure.
 *
 *   node --import tsx sim/sim-train-cli.ts --data <jsonl> [--data <jsonl>] --output-dir <dir>
 *     --base-skill <json|file> [--init-adapter <dir>] [--epochs N] [--steps-per-epoch N] [--step-ms N]
 *     [--save-steps N] [--resume-from-checkpoint <dir>|auto] [--crash-at-step N]
 *
 * --init-adapter (the previous iteration's adapter, `{{init_adapter}}`) trains on top of it: its
 * skill replaces --base-skill. spec/sim-trainer.ts builds this command for `trainer.kind: sim`.
 */

function usageError(message: string): never {
  process.stderr.write(`sim-train: ${message}\n`);
  process.exit(2);
}

function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) usageError(`--${name} ${JSON.stringify(value)}: expected an integer >= ${min}`);
  return n;
}

function main(): Promise<void> | void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        data: { type: 'string', multiple: true },
        'output-dir': { type: 'string' },
        'base-skill': { type: 'string' },
        'init-adapter': { type: 'string' },
        epochs: { type: 'string' },
        'steps-per-epoch': { type: 'string' },
        'step-ms': { type: 'string' },
        'save-steps': { type: 'string' },
        'resume-from-checkpoint': { type: 'string' },
        'crash-at-step': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError((err as Error).message);
  }

  const data = values.data ?? [];
  if (data.length === 0) usageError('--data: expected at least one training JSONL file');
  for (const file of data) {
    if (!existsSync(file) || !statSync(file).isFile()) usageError(`--data ${JSON.stringify(file)}: file not found; expected a training JSONL file`);
  }
  const outputDir = values['output-dir'];
  if (!outputDir) usageError('--output-dir: expected a directory for checkpoints and the adapter');

  const initAdapter = values['init-adapter'];
  const skillArg = initAdapter ? join(initAdapter, ADAPTER_FILE) : values['base-skill'];
  if (!skillArg) usageError('--base-skill: expected a SimSkill as JSON or a path to a JSON file');
  let skillJson: unknown;
  try {
    skillJson = JSON.parse(skillArg.trim().startsWith('{') ? skillArg : readFileSync(skillArg, 'utf8'));
  } catch (err) {
    usageError(`${initAdapter ? '--init-adapter' : '--base-skill'} ${JSON.stringify(skillArg)}: expected JSON {firstTry, fixWithFeedback, fixWithExperience, reflectionAccuracy} or a file holding it (${(err as Error).message})`);
  }
  // An adapter file can serve as the base: training on top of the previous iteration.
  const skillValue = typeof skillJson === 'object' && skillJson !== null && 'skill' in skillJson ? (skillJson as { skill: unknown }).skill : skillJson;
  let baseSkill;
  try {
    baseSkill = parseSimSkill(skillValue, '--base-skill');
  } catch (err) {
    usageError((err as Error).message);
  }

  const resume = values['resume-from-checkpoint'];
  if (resume !== undefined && resume !== 'auto' && !existsSync(`${resume}/trainer_state.json`)) {
    usageError(`--resume-from-checkpoint ${JSON.stringify(resume)}: expected 'auto' or a checkpoint directory containing trainer_state.json`);
  }

  return runSimTraining({
    dataFiles: data,
    outputDir,
    baseSkill,
    // The spec's defaults, so the command behaves the same run by hand.
    epochs: positiveInt('epochs', values.epochs, DEFAULT_SIM_TRAINER.epochs),
    stepsPerEpoch: positiveInt('steps-per-epoch', values['steps-per-epoch'], DEFAULT_SIM_TRAINER.stepsPerEpoch),
    stepMs: positiveInt('step-ms', values['step-ms'], DEFAULT_SIM_TRAINER.stepMs, 0),
    saveSteps: positiveInt('save-steps', values['save-steps'], 5),
    resumeFrom: resume,
    crashAtStep: values['crash-at-step'] === undefined ? undefined : positiveInt('crash-at-step', values['crash-at-step'], 0),
    log: (line) => process.stdout.write(line + '\n'),
  }).then(
    (adapter) => {
      process.stdout.write(`sim-train: wrote adapter to ${outputDir} skill=${JSON.stringify(adapter.skill)}\n`);
    },
    (err: unknown) => {
      if (err instanceof SimulatedCrash) {
        process.stderr.write(`sim-train: ${err.message}\n`);
        process.exit(137);
      }
      const message = (err as Error).message;
      process.stderr.write(`sim-train: ${message}\n`);
      process.exit(err instanceof TrainingDataError ? 2 : 1);
    },
  );
}

void main();
