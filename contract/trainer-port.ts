import { TRAINER_CONFIG_ERROR, TRAINER_CRASH_ERROR } from './failure-types';

/**
 * The trainer runner as the train activity sees it (injected by the worker construction; the
 * implementation is trainer/run-trainer-command.ts): runs a trainer command from an argv template
 * as a child process, heartbeats its progress, resumes from the newest checkpoint. Failures are
 * the three error classes below, which the activity maps to Temporal failures.
 */
export type TrainerRunner = (opts: RunTrainerOptions) => Promise<TrainerRunResult>;

/** Training progress, as heartbeat details of the train activity. */
export interface Progress {
  step: number | null;
  totalSteps: number | null;
  epoch: number | null;
  loss: number | null;
  learningRate: number | null;
  /** Last non-empty output line (truncated), for the operator watching heartbeats. */
  lastLine: string | null;
  /** Checkpoint directory this run resumed from, or null for a fresh start. */
  resumedFrom: string | null;
}

export interface RunTrainerOptions {
  /** argv template, e.g. ['trl', 'sft', '--model_name_or_path', '{{base_model}}', ...]. */
  command: string[];
  /** Values for `{{name}}`; `output_dir` and `resume_from_checkpoint` are provided by the runner. */
  placeholders: Record<string, string>;
  cwd?: string;
  /** Added to the worker's environment. */
  env?: Record<string, string>;
  outputDir: string;
  /** Trainer stdout and stderr are appended here (one header line per run). */
  logFile: string;
  heartbeat: (p: Progress) => void;
  signal?: AbortSignal;
  /** Default 10 s. */
  heartbeatEveryMs?: number;
  /** Time between SIGTERM and SIGKILL. Default 30 s (a trainer may be writing a checkpoint). */
  killGraceMs?: number;
  /** Lines of output kept for logTail. Default 50. */
  logTailLines?: number;
}

export interface TrainerRunResult {
  exitCode: number;
  argv: string[];
  resumedFrom: string | null;
  /** Newest complete checkpoint after the run (null when the trainer saved none). */
  finalCheckpoint: string | null;
  logTail: string;
  progress: Progress;
}

export interface TrainerFailureDetails {
  exitCode: number | null;
  /** The signal that ended the trainer (SIGKILL...), if one did. */
  signal: string | null;
  argv: string[];
  resumedFrom: string | null;
  logTail: string;
  progress: Progress | null;
}

/** Bad template, bad arguments, missing data: retrying cannot help. */
export class TrainerConfigError extends Error {
  readonly nonRetryable = true;
  constructor(message: string, readonly details?: TrainerFailureDetails) {
    super(message);
    this.name = TRAINER_CONFIG_ERROR;
  }
}

/** The trainer died (OOM, NCCL timeout, node preempted...): retry, it resumes from the last checkpoint. */
export class TrainerCrashError extends Error {
  readonly nonRetryable = false;
  constructor(message: string, readonly details: TrainerFailureDetails) {
    super(message);
    this.name = TRAINER_CRASH_ERROR;
  }
}

/** The run was cancelled through the signal; `cause` is the signal's reason. */
export class TrainerAbortedError extends Error {
  constructor(readonly details: TrainerFailureDetails, cause: unknown) {
    super('trainer run aborted; its process group was killed', { cause });
    this.name = 'TrainerAbortedError';
  }
}
