/**
 * Training progress from a trainer's console output. Recognises what HF Trainer (TRL,
 * LLaMA-Factory) prints: the logged metrics dict `{'loss': 0.5, 'learning_rate': 1e-06,
 * 'epoch': 0.5}` (transformers 5 quotes the values: `{'loss': '1.711', 'epoch': '0.25'}`), the tqdm training bar ` 30%|███  | 12/40 [00:05<00:11, 2.4it/s]`, and a plain
 * `step 12/40` for user scripts. Pure string handling: no I/O.
 */
import type { Progress } from '../contract/trainer-port';

export type ProgressUpdate = Partial<Pick<Progress, 'step' | 'totalSteps' | 'epoch' | 'loss' | 'learningRate'>>;

const NUM = String.raw`(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)`;
// transformers >= 5 prints the values as strings formatted with :.4g ({'loss': '1.711', ...}).
const metric = (name: string) => new RegExp(String.raw`['"]${name}['"]\s*:\s*['"]?${NUM}['"]?`);
const LOSS = metric('loss');
const LR = metric('learning_rate');
const EPOCH = metric('epoch');
// The training bar has no description before the percentage; dataset bars ("Map:",
// "Tokenizing train dataset:", "Loading checkpoint shards:") do, and are ignored.
const TQDM = /^\s*\d{1,3}%\|[^|]*\|\s*(\d+)\/(\d+)\s*\[/;
const STEP = /\bstep[\s:=]*(\d+)\s*\/\s*(\d+)/i;

function num(s: string): number | null {
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** What one output line says about progress, or null when it says nothing. */
export function parseProgressLine(line: string): ProgressUpdate | null {
  const update: ProgressUpdate = {};
  const loss = LOSS.exec(line);
  if (loss) update.loss = num(loss[1]);
  const lr = LR.exec(line);
  if (lr) update.learningRate = num(lr[1]);
  const epoch = EPOCH.exec(line);
  if (epoch) update.epoch = num(epoch[1]);
  const bar = TQDM.exec(line) ?? STEP.exec(line);
  if (bar) {
    update.step = Number(bar[1]);
    update.totalSteps = Number(bar[2]);
  }
  return Object.keys(update).length === 0 ? null : update;
}

const MAX_LINE = 500;

/** Accumulates progress over a stream of chunks (tqdm redraws with \r, so both \r and \n end a line). */
export class ProgressTracker {
  private pending = '';
  readonly progress: Progress;

  constructor(resumedFrom: string | null) {
    this.progress = { step: null, totalSteps: null, epoch: null, loss: null, learningRate: null, lastLine: null, resumedFrom };
  }

  /**
   * Feeds raw output. `onLine` sees each complete line right after it was applied, so it can
   * judge a line by the progress reached so far (not by lines later in the same chunk).
   */
  push(chunk: string, onLine?: (line: string, progress: Progress) => void): void {
    const parts = (this.pending + chunk).split(/\r\n|\r|\n/);
    this.pending = parts.pop() ?? '';
    for (const line of parts) {
      this.line(line);
      onLine?.(line, this.progress);
    }
  }

  /** Flushes a trailing line without newline. */
  end(onLine?: (line: string, progress: Progress) => void): void {
    const rest = this.pending;
    this.pending = '';
    if (rest === '') return;
    this.line(rest);
    onLine?.(rest, this.progress);
  }

  private line(line: string): void {
    const trimmed = line.trim();
    if (trimmed === '') return;
    this.progress.lastLine = trimmed.length > MAX_LINE ? `${trimmed.slice(0, MAX_LINE)}…` : trimmed;
    const update = parseProgressLine(line);
    if (update) Object.assign(this.progress, update);
  }

  snapshot(): Progress {
    return { ...this.progress };
  }
}
