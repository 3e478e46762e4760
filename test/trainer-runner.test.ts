import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLatestCheckpoint, listCheckpoints } from '../trainer/checkpoints';
import { parseProgressLine, ProgressTracker } from '../trainer/progress-parser';
import { fillCommand, runTrainerCommand } from '../trainer/run-trainer-command';
import { TrainerAbortedError, TrainerConfigError, TrainerCrashError, type Progress } from '../contract/trainer-port';

/**
 * A tiny trainer with HF Trainer habits: argparse-like flags (exit 2 on unknown ones),
 * `checkpoint-<step>/trainer_state.json` after every step, the metrics dict and a tqdm bar on
 * stderr. It crashes once at --crash_at (a marker file makes the crash happen only once) and
 * can start a grandchild that ignores SIGTERM.
 */
const TRAINER = String.raw`
const fs = require('fs'), path = require('path'), { spawn } = require('child_process');
const known = ['output_dir', 'train_file', 'total_steps', 'crash_at', 'step_ms', 'grandchild', 'resume_from_checkpoint'];
const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z_]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !known.includes(m[1])) {
    console.error('usage: tiny-trainer [--output_dir DIR] ...');
    console.error('tiny-trainer: error: unrecognized arguments: ' + argv[i]);
    process.exit(2);
  }
  args[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
}
if (!fs.existsSync(args.train_file)) {
  console.error("FileNotFoundError: [Errno 2] No such file or directory: '" + args.train_file + "'");
  process.exit(1);
}
const total = Number(args.total_steps), stepMs = Number(args.step_ms || 20);
let start = 0;
if (args.resume_from_checkpoint) {
  start = JSON.parse(fs.readFileSync(path.join(args.resume_from_checkpoint, 'trainer_state.json'), 'utf8')).global_step;
}
console.log('resumed from step ' + start);
if (args.grandchild) {
  const g = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
  fs.writeFileSync(args.grandchild, String(g.pid));
}
const marker = path.join(args.output_dir, 'crashed-once');
let step = start;
const tick = () => {
  step++;
  if (args.crash_at && step === Number(args.crash_at) && !fs.existsSync(marker)) {
    fs.writeFileSync(marker, '');
    console.error('RuntimeError: CUDA out of memory (simulated)');
    process.exit(1);
  }
  const dir = path.join(args.output_dir, 'checkpoint-' + step);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify({ global_step: step }));
  console.log("{'loss': " + (1 / step).toFixed(4) + ", 'learning_rate': 1e-06, 'epoch': " + (step / total).toFixed(2) + "}");
  process.stderr.write('\r' + Math.round(100 * step / total) + '%|###   | ' + step + '/' + total + ' [00:01<00:02,  5.00it/s]');
  if (step < total) setTimeout(tick, stepMs); else console.log('\ntraining done');
};
setTimeout(tick, stepMs);
`;

let root: string;
let script: string;
let dataFile: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'leafe-trainer-'));
  script = path.join(root, 'tiny-trainer.js');
  dataFile = path.join(root, 'train.jsonl');
  await writeFile(script, TRAINER);
  await writeFile(dataFile, '{"prompt":[],"completion":[]}\n');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const COMMAND = [
  process.execPath, '{{script}}', '--output_dir', '{{output_dir}}', '--train_file', '{{train_file}}',
  '--total_steps', '{{total_steps}}', '--resume_from_checkpoint={{resume_from_checkpoint?}}',
];

async function newRun(name: string) {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  return { outputDir: path.join(dir, 'out'), logFile: path.join(dir, 'train.log') };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

describe('fillCommand', () => {
  it('fills placeholders and drops elements with an empty optional placeholder', () => {
    expect(fillCommand(['trl', '--m', '{{base_model}}', '--resume_from_checkpoint={{resume_from_checkpoint?}}'], { base_model: 'Qwen', resume_from_checkpoint: '' }))
      .toEqual(['trl', '--m', 'Qwen']);
    expect(fillCommand(['x', 'resume_from_checkpoint={{resume_from_checkpoint?}}'], { resume_from_checkpoint: '/o/checkpoint-3' }))
      .toEqual(['x', 'resume_from_checkpoint=/o/checkpoint-3']);
  });

  it('names an unknown placeholder', () => {
    expect(() => fillCommand(['trl', '--lr', '{{learnig_rate}}'], { learning_rate: '1e-6' })).toThrow(TrainerConfigError);
    expect(() => fillCommand(['trl', '--lr', '{{learnig_rate}}'], { learning_rate: '1e-6' })).toThrow(/command\[2\].*\{\{learnig_rate\}\}.*\{\{learning_rate\}\}/);
    expect(() => fillCommand([], {})).toThrow(/non-empty array/);
  });
});

describe('progress parser', () => {
  it('reads HF metric dicts, the tqdm training bar and "step n/m"', () => {
    expect(parseProgressLine("{'loss': 0.5123, 'grad_norm': 1.2, 'learning_rate': 1e-06, 'epoch': 0.5}")).toEqual({ loss: 0.5123, learningRate: 1e-6, epoch: 0.5 });
    expect(parseProgressLine(' 30%|███       | 12/40 [00:05<00:11,  2.40it/s]')).toEqual({ step: 12, totalSteps: 40 });
    expect(parseProgressLine('step 7/100 loss=0.3')).toEqual({ step: 7, totalSteps: 100 });
    // transformers 5 / TRL 1.16 print the metric values as quoted strings (seen on the real trainer).
    expect(parseProgressLine("{'loss': '1.711', 'grad_norm': '2.624', 'learning_rate': '0.0001', 'entropy': '2.091', 'mean_token_accuracy': '0.5932', 'num_tokens': '321', 'epoch': '0.25'}")).toEqual({ loss: 1.711, learningRate: 1e-4, epoch: 0.25 });
    expect(parseProgressLine('Map: 100%|██████████| 1000/1000 [00:00<00:00, 9000.00 examples/s]')).toBeNull();
    expect(parseProgressLine('Loading checkpoint shards: 100%|██████████| 4/4 [00:03<00:00,  1.1it/s]')).toBeNull();
    expect(parseProgressLine('hello')).toBeNull();
  });

  it('splits chunks on \\r and \\n', () => {
    const t = new ProgressTracker(null);
    t.push('\r 10%|#  | 1/10 [00:01<00:09, 1.0it/s]\r 20%|## | 2/1');
    t.push('0 [00:02<00:08, 1.0it/s]\n');
    expect(t.snapshot()).toMatchObject({ step: 2, totalSteps: 10, resumedFrom: null });
  });
});

describe('checkpoints', () => {
  it('finds the newest complete checkpoint-<step>', async () => {
    const out = path.join(root, 'ckpt');
    expect(await findLatestCheckpoint(out)).toBeNull();
    for (const s of [2, 10, 9]) {
      await mkdir(path.join(out, `checkpoint-${s}`), { recursive: true });
      await writeFile(path.join(out, `checkpoint-${s}`, 'trainer_state.json'), '{}');
    }
    await mkdir(path.join(out, 'checkpoint-11'), { recursive: true }); // cut off mid-save
    await mkdir(path.join(out, 'checkpoint-x'), { recursive: true });
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([10, 9, 2]);
    expect(await findLatestCheckpoint(out)).toEqual({ path: path.join(out, 'checkpoint-10'), step: 10 });
    expect((await findLatestCheckpoint(out, null))?.step).toBe(11);
  });
});

describe('runTrainerCommand', () => {
  it('crashes once (retryable), then resumes from the newest checkpoint and finishes', async () => {
    const { outputDir, logFile } = await newRun('crash-resume');
    const beats: Progress[] = [];
    const base = {
      command: [...COMMAND, '--crash_at', '4'],
      placeholders: { script, train_file: dataFile, total_steps: '6' },
      outputDir, logFile, heartbeat: (p: Progress) => beats.push(p), heartbeatEveryMs: 15, killGraceMs: 2000,
    };
    const first = await runTrainerCommand(base).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TrainerCrashError);
    const crash = first as TrainerCrashError;
    expect(crash.nonRetryable).toBe(false);
    expect(crash.details.exitCode).toBe(1);
    expect(crash.details.resumedFrom).toBeNull();
    expect(crash.details.logTail).toContain('resumed from step 0');
    expect(crash.details.progress?.step).toBe(3);
    expect((await findLatestCheckpoint(outputDir))?.step).toBe(3);

    const second = await runTrainerCommand(base);
    expect(second.exitCode).toBe(0);
    expect(second.resumedFrom).toBe(path.join(outputDir, 'checkpoint-3'));
    expect(second.argv).toContain(`--resume_from_checkpoint=${path.join(outputDir, 'checkpoint-3')}`);
    expect(second.logTail).toContain('resumed from step 3');
    expect(second.finalCheckpoint).toBe(path.join(outputDir, 'checkpoint-6'));
    expect(second.progress).toMatchObject({ step: 6, totalSteps: 6, epoch: 1, loss: 0.1667, learningRate: 1e-6, resumedFrom: second.resumedFrom });

    // Heartbeats carried parsed progress, and both runs are in the log.
    expect(beats.some((b) => b.step !== null && b.loss !== null && b.totalSteps === 6)).toBe(true);
    expect(beats[beats.length - 1].step).toBe(6);
    const log = await readFile(logFile, 'utf8');
    expect(log.match(/=== leafe trainer run/g)).toHaveLength(2);
    expect(log).toContain('CUDA out of memory (simulated)');
  });

  it('abort kills the whole process group, grandchild included', async () => {
    const { outputDir, logFile } = await newRun('abort');
    const pidFile = path.join(root, 'abort', 'grandchild.pid');
    const ctrl = new AbortController();
    let aborted = false;
    const run = runTrainerCommand({
      command: [...COMMAND, '--step_ms', '50', '--grandchild', '{{pid_file}}'],
      placeholders: { script, train_file: dataFile, total_steps: '1000', pid_file: pidFile },
      outputDir, logFile, signal: ctrl.signal, heartbeatEveryMs: 20, killGraceMs: 300,
      heartbeat: (p) => {
        if (!aborted && p.step !== null && p.step >= 2) {
          aborted = true;
          ctrl.abort(new Error('cancelled by test'));
        }
      },
    }).catch((e: unknown) => e);
    const err = await run;
    expect(err).toBeInstanceOf(TrainerAbortedError);
    expect(((err as TrainerAbortedError).cause as Error).message).toBe('cancelled by test');
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    expect(alive(grandchild)).toBe(false);
    expect((await findLatestCheckpoint(outputDir))!.step).toBeLessThan(1000);
  });

  it('classifies argument errors (exit 2) and a missing data file as non-retryable config errors', async () => {
    const bad = await newRun('bad-flag');
    const e1 = await runTrainerCommand({
      command: [...COMMAND, '--learning_rat', '1e-6'],
      placeholders: { script, train_file: dataFile, total_steps: '3' },
      ...bad, heartbeat: () => {}, heartbeatEveryMs: 50,
    }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(TrainerConfigError);
    expect((e1 as TrainerConfigError).nonRetryable).toBe(true);
    expect((e1 as Error).message).toMatch(/unrecognized arguments: --learning_rat/);

    const missing = await newRun('missing-data');
    const e2 = await runTrainerCommand({
      command: COMMAND,
      placeholders: { script, train_file: path.join(root, 'nope.jsonl'), total_steps: '3' },
      ...missing, heartbeat: () => {}, heartbeatEveryMs: 50,
    }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(TrainerConfigError);
    expect((e2 as TrainerConfigError).details?.exitCode).toBe(1);
    expect((e2 as Error).message).toMatch(/nope\.jsonl/);
  });

  it('a ValueError before the first step is a config error, after training started a crash', async () => {
    const r = await newRun('value-error');
    const run = (code: string) => runTrainerCommand({ command: [process.execPath, '-e', '{{code}}'], placeholders: { code }, ...r, heartbeat: () => {}, heartbeatEveryMs: 50 })
      .catch((e: unknown) => e);
    const early = await run(`console.error('ValueError: --bf16 requires a CUDA device'); process.exit(1)`);
    expect(early).toBeInstanceOf(TrainerConfigError);
    expect((early as Error).message).toMatch(/--bf16 requires a CUDA device/);
    // Same chunk, ValueError first: judged by the progress reached before it.
    const sameChunk = await run(`process.stderr.write('ValueError: bad config\\n 20%|##  | 2/10 [00:01<00:04, 2.0it/s]\\n'); process.exit(1)`);
    expect(sameChunk).toBeInstanceOf(TrainerConfigError);
    const late = await run(`console.error(' 20%|##  | 2/10 [00:01<00:04, 2.0it/s]'); console.error('ValueError: loss is nan'); process.exit(1)`);
    expect(late).toBeInstanceOf(TrainerCrashError);
    expect((late as TrainerCrashError).details.progress?.step).toBe(2);
  });

  it('an already aborted signal starts nothing', async () => {
    const r = await newRun('pre-aborted');
    const ctrl = new AbortController();
    ctrl.abort(new Error('early'));
    let beats = 0;
    const err = await runTrainerCommand({ command: COMMAND, placeholders: { script, train_file: dataFile, total_steps: '3' }, ...r, signal: ctrl.signal, heartbeat: () => beats++ })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainerAbortedError);
    expect(beats).toBe(0);
    expect(await findLatestCheckpoint(r.outputDir)).toBeNull();
  });

  it('a trainer command (named by a spec) sees none of the worker\'s secrets: an allowlisted environment, the spec\'s env, and what the operator passes by name', async () => {
    const r = await newRun('environment');
    const secrets = { OPENAI_API_KEY: 'sk-worker', LEAFE_KEY_PROD: 'prod-key', LEAFE_INFERENCE_KEYS: '{"LEAFE_KEY_PROD":["https://x/v1"]}', AWS_SECRET_ACCESS_KEY: 'aws', CUDA_API_TOKEN: 'looks-allowed-by-prefix', TEMPORAL_API_KEY: 't' };
    const passed = { WANDB_PROJECT: 'p', LEAFE_TRAINER_PASS_ENV: 'WANDB_PROJECT', CUDA_VISIBLE_DEVICES: '0', LC_ALL: 'C.UTF-8' };
    const saved = Object.fromEntries(Object.keys({ ...secrets, ...passed }).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets, passed);
    try {
      const result = await runTrainerCommand({
        command: [process.execPath, '-e', 'console.log("ENV " + JSON.stringify(Object.keys(process.env).sort()))'],
        placeholders: {}, ...r, env: { FROM_SPEC: '1' }, heartbeat: () => {}, heartbeatEveryMs: 50,
      });
      const names = JSON.parse(/ENV (.*)/.exec(result.logTail)![1]) as string[];
      for (const secret of Object.keys(secrets)) expect(names, secret).not.toContain(secret);
      expect(names).toEqual(expect.arrayContaining(['PATH', 'FROM_SPEC', 'WANDB_PROJECT', 'CUDA_VISIBLE_DEVICES', 'LC_ALL']));
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('rejects unknown placeholders and missing programs before or at spawn', async () => {
    const r = await newRun('template');
    await expect(runTrainerCommand({ command: [...COMMAND, '{{epochs}}'], placeholders: { script, train_file: dataFile, total_steps: '3' }, ...r, heartbeat: () => {} }))
      .rejects.toThrow(/unknown placeholder \{\{epochs\}\}/);
    await expect(runTrainerCommand({ command: ['/no/such/trainer'], placeholders: {}, ...r, heartbeat: () => {} }))
      .rejects.toThrow(TrainerConfigError);
    await expect(runTrainerCommand({ command: COMMAND, placeholders: { script, output_dir: '/x' }, ...r, heartbeat: () => {} }))
      .rejects.toThrow(/placeholders\.output_dir/);
  });
});

describe('example trainer templates', () => {
  // The values the train activity supplies besides the template's defaults.
  const supplied = {
    base_model: 'Qwen/Qwen2.5-7B-Instruct', train_file: '/d/train.prompt-completion.jsonl', messages_file: '/d/train.messages.jsonl',
    dataset_dir: '/d', trl_dataset_dir: '/d/trl', output_dir: '/o',
  };
  for (const name of ['trl-sft', 'llamafactory-sft']) {
    it(`${name}.yaml fills without unknown placeholders and drops the resume flag on a fresh start`, async () => {
      const { parse } = await import('yaml');
      const t = parse(await readFile(path.join(__dirname, '..', 'examples', 'trainers', `${name}.yaml`), 'utf8')) as { command: string[]; defaults: Record<string, string> };
      const fresh = fillCommand(t.command, { ...t.defaults, ...supplied, resume_from_checkpoint: '' });
      expect(fresh.join(' ')).not.toMatch(/\{\{|resume_from_checkpoint/);
      const resumed = fillCommand(t.command, { ...t.defaults, ...supplied, resume_from_checkpoint: '/o/checkpoint-40' });
      expect(resumed[resumed.length - 1]).toMatch(/resume_from_checkpoint=\/o\/checkpoint-40$/);
      expect(resumed.join(' ')).toMatch(/1(\.0)?e-6/);
      expect(Number(t.defaults.batch_size) * Number(t.defaults.grad_accum)).toBe(128);
    });
  }
});
