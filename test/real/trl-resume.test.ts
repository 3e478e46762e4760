// The real trainer (TRL `trl sft`, LoRA, CPU) through leafe's trainer runner: killed after its first
// checkpoint, run again, it resumes from that checkpoint and finishes the planned steps.
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { expect, test } from 'vitest';
import { runTrainerCommand } from '../../trainer/run-trainer-command';
import { TrainerAbortedError, type Progress } from '../../contract/trainer-port';
import { PROJECT_ROOT } from '../../infra/paths';
import { findRealEnv } from '../../runtime/real-model-env';

const TEMPLATE = YAML.parse(readFileSync(path.join(PROJECT_ROOT, 'examples', 'trainers', 'trl-sft-cpu.yaml'), 'utf8')) as { command: string[]; defaults: Record<string, string> };

function tinyDataset(dir: string): string {
  const trl = path.join(dir, 'trl');
  mkdirSync(trl, { recursive: true });
  const records = Array.from({ length: 16 }, (_, i) => ({
    prompt: [
      { role: 'system', content: 'Answer with a Python function in a ```python block.' },
      { role: 'user', content: `Write add_${i}(x) that returns x plus ${i}.` },
    ],
    completion: [{ role: 'assistant', content: `\`\`\`python\ndef add_${i}(x):\n    return x + ${i}\n\`\`\`` }],
  }));
  writeFileSync(path.join(trl, 'train.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return trl;
}

test('trl sft killed after checkpoint-2 resumes from it on the retry and reaches max_steps', async () => {
  const real = findRealEnv();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-trl-resume-'));
  const outputDir = path.join(dir, 'out');
  const placeholders = {
    ...TEMPLATE.defaults,
    max_steps: '6',
    save_steps: '2',
    batch_size: '4',
    max_length: '256',
    base_model: real.modelDir('smollm2-135m-instruct'),
    trl_dataset_dir: tinyDataset(dir),
  };
  const env = { PATH: `${real.bin}${path.delimiter}${process.env.PATH}`, HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', OMP_NUM_THREADS: String(os.availableParallelism()) };
  const logFile = path.join(outputDir, 'trainer.log');

  // First attempt: abort (as a cancelled or lost activity would) once checkpoint-2 is complete.
  const abort = new AbortController();
  const watcher = setInterval(() => {
    if (existsSync(path.join(outputDir, 'checkpoint-2', 'trainer_state.json'))) abort.abort(new Error('killed after checkpoint-2'));
  }, 200);
  const first = runTrainerCommand({ command: TEMPLATE.command, placeholders, env, outputDir, logFile, heartbeat: () => undefined, signal: abort.signal, killGraceMs: 2000 });
  await expect(first).rejects.toBeInstanceOf(TrainerAbortedError);
  clearInterval(watcher);
  expect(existsSync(path.join(outputDir, 'checkpoint-6'))).toBe(false);

  // Retry: resumes from the newest complete checkpoint and finishes.
  const beats: Progress[] = [];
  const second = await runTrainerCommand({ command: TEMPLATE.command, placeholders, env, outputDir, logFile, heartbeat: (p) => beats.push(p), heartbeatEveryMs: 500 });
  expect(second.resumedFrom).toMatch(/checkpoint-(2|4)$/);
  expect(second.argv.join(' ')).toContain(`--resume_from_checkpoint=${second.resumedFrom}`);
  expect(second.finalCheckpoint).toMatch(/checkpoint-6$/);
  const state = JSON.parse(readFileSync(path.join(outputDir, 'checkpoint-6', 'trainer_state.json'), 'utf8')) as { global_step: number; log_history: Array<{ step: number }> };
  expect(state.global_step).toBe(6);
  // The retry did not start over: its progress bar never shows steps 1 or 2 (a fresh run would).
  const retryLog = readFileSync(logFile, 'utf8').split('=== leafe trainer run').pop() ?? '';
  expect(retryLog).toMatch(/\|\s*6\/6 \[/);
  expect(retryLog).not.toMatch(/\|\s*[12]\/6 \[/);
  expect(second.progress.step).toBe(6);
  expect(beats.some((b) => b.loss !== null)).toBe(true);
  expect(existsSync(path.join(outputDir, 'adapter_model.safetensors'))).toBe(true);
});
