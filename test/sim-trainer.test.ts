import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../infra/paths';
import type { SimSkill } from '../contract/sim-skill';
import { ADAPTER_FILE, type SimAdapterFile } from '../sim/sim-trainer';

const BASE: SimSkill = { firstTry: 0.3, fixWithFeedback: 0.25, fixWithExperience: 0.55, reflectionAccuracy: 0.7 };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the trainer CLI as a real child process, the way the command-trainer activity does. */
function train(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sim/sim-train-cli.ts', ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'sim-train-'));
}

/** TRL prompt-completion records with a top-level kind. */
function dataset(dir: string, name: string, cf: number, reh: number): string {
  const lines: string[] = [];
  for (let i = 0; i < cf + reh; i++) {
    lines.push(
      JSON.stringify({
        id: `${name}-${i}`,
        prompt: [{ role: 'user', content: `Task id: HumanEval/${i}\n\nwrite it` }],
        completion: [{ role: 'assistant', content: '```python\ndef f():\n    return 1\n```' }],
        kind: i < cf ? 'cf' : 'reh',
      }),
    );
  }
  const file = path.join(dir, `${name}.jsonl`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const adapterOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, ADAPTER_FILE), 'utf8')) as SimAdapterFile;
const FAST = ['--epochs', '2', '--steps-per-epoch', '5', '--step-ms', '1', '--save-steps', '3'];

describe('sim trainer CLI', () => {
  it('writes an adapter whose skill grows with counterfactual data, with TRL-like progress and checkpoints', async () => {
    const dir = tmp();
    const small = dataset(dir, 'small', 10, 10);
    const big = dataset(dir, 'big', 200, 10);
    const rehOnly = dataset(dir, 'reh', 0, 200);
    const outSmall = path.join(dir, 'out-small');
    const outBig = path.join(dir, 'out-big');
    const outReh = path.join(dir, 'out-reh');

    const run = await train(['--data', small, '--output-dir', outSmall, '--base-skill', JSON.stringify(BASE), ...FAST]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/\{'loss': [\d.]+, 'grad_norm': [\d.]+, 'learning_rate': [\de.-]+, 'epoch': [\d.]+\}/);
    expect(run.stdout).toContain('step 10/10');
    expect(readdirSync(outSmall).filter((d) => d.startsWith('checkpoint-')).sort()).toEqual(['checkpoint-10', 'checkpoint-3', 'checkpoint-6', 'checkpoint-9']);

    // The base skill may also come from a file (e.g. the previous iteration's adapter).
    const baseFile = path.join(dir, 'base.json');
    writeFileSync(baseFile, JSON.stringify(BASE));
    expect((await train(['--data', big, '--data', small, '--output-dir', outBig, '--base-skill', baseFile, ...FAST])).code).toBe(0);
    expect((await train(['--data', rehOnly, '--output-dir', outReh, '--base-skill', JSON.stringify(BASE), ...FAST])).code).toBe(0);

    const s = adapterOf(outSmall);
    const b = adapterOf(outBig);
    const r = adapterOf(outReh);
    expect(s.training.records).toEqual({ cf: 10, reh: 10, other: 0 });
    expect(b.training.records).toEqual({ cf: 210, reh: 20, other: 0 });
    for (const k of ['fixWithFeedback', 'fixWithExperience', 'firstTry'] as const) {
      expect(s.skill[k]).toBeGreaterThan(BASE[k]);
      expect(b.skill[k]).toBeGreaterThan(s.skill[k]);
      expect(b.skill[k]).toBeLessThan(1);
    }
    // Rehearsal only nudges first tries.
    expect(r.skill.firstTry).toBeGreaterThan(BASE.firstTry);
    expect(r.skill.fixWithFeedback).toBe(BASE.fixWithFeedback);
    expect(r.skill.firstTry - BASE.firstTry).toBeLessThan(b.skill.fixWithFeedback - BASE.fixWithFeedback);
  });

  it('crashes at --crash-at-step, then resumes from the checkpoint and ends with the same adapter as an uninterrupted run', async () => {
    const dir = tmp();
    const data = dataset(dir, 'd', 30, 5);
    const out = path.join(dir, 'out');
    const args = ['--data', data, '--output-dir', out, '--base-skill', JSON.stringify(BASE), ...FAST, '--resume-from-checkpoint', 'auto', '--crash-at-step', '7'];

    const crashed = await train(args);
    expect(crashed.code).not.toBe(0);
    expect(crashed.code).not.toBe(2);
    expect(crashed.stdout).toContain('step 7/10');
    expect(crashed.stdout).not.toContain('step 8/10');
    expect(existsSync(path.join(out, ADAPTER_FILE))).toBe(false);

    // The retry (same command) resumes past the crash step.
    const resumed = await train(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resumed from checkpoint-7');
    expect(resumed.stdout).not.toContain('step 7/10');
    expect(resumed.stdout).toContain('step 10/10');

    const clean = path.join(dir, 'clean');
    expect((await train(['--data', data, '--output-dir', clean, '--base-skill', JSON.stringify(BASE), ...FAST])).code).toBe(0);
    expect(adapterOf(out)).toEqual(adapterOf(clean));
  });

  it('rejects bad arguments with exit code 2 and a message naming argument, value and expectation', async () => {
    const dir = tmp();
    const data = dataset(dir, 'd', 1, 1);
    const out = path.join(dir, 'out');
    const skill = JSON.stringify(BASE);

    const missing = await train(['--data', path.join(dir, 'nope.jsonl'), '--output-dir', out, '--base-skill', skill]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--data ".*nope\.jsonl": file not found; expected/);

    const garbled = await train(['--data', data, '--output-dir', out, '--base-skill', '{"firstTry": 0.3,']);
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toMatch(/--base-skill .*expected JSON/);

    const outOfRange = await train(['--data', data, '--output-dir', out, '--base-skill', JSON.stringify({ ...BASE, fixWithFeedback: 1.5 })]);
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toMatch(/--base-skill\.fixWithFeedback: expected a number in \[0, 1\]; got 1\.5/);

    const badEpochs = await train(['--data', data, '--output-dir', out, '--base-skill', skill, '--epochs', 'two']);
    expect(badEpochs.code).toBe(2);
    expect(badEpochs.stderr).toMatch(/--epochs "two": expected an integer/);

    const badLine = path.join(dir, 'bad.jsonl');
    writeFileSync(badLine, '{"kind": "cf"}\nnot json\n');
    const badData = await train(['--data', badLine, '--output-dir', out, '--base-skill', skill]);
    expect(badData.code).toBe(2);
    expect(badData.stderr).toMatch(/bad\.jsonl:2: expected one JSON record per line/);

    const unknownFlag = await train(['--data', data, '--output-dir', out, '--base-skill', skill, '--learning-rate', '1']);
    expect(unknownFlag.code).toBe(2);
  });
});
