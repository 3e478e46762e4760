/**
 * Finds the trainer processes of one train output directory (Linux /proc) and SIGKILLs their
 * process group, as an OOM killer or a lost node would. The trainer runner starts each trainer
 * in a group of its own (trainer/run-trainer-command.ts), so the group is exactly the trainer
 * and its children; the output directory, which holds the run directory of this chaos run,
 * makes sure nothing else on the machine is touched.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface TrainerProcess {
  pid: number;
  pgid: number;
}

/** Live processes whose argv has `outputDir` as an argument (`--output_dir <dir>`). */
export function trainerProcesses(outputDir: string): TrainerProcess[] {
  const out: TrainerProcess[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (!argv.includes(outputDir)) continue;
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' || rest[0] === 'X') continue;
      out.push({ pid: Number(e), pgid: Number(rest[2]) });
    } catch {
      // gone while we looked
    }
  }
  return out;
}

function ownGroup(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** SIGKILLs every process group found for `outputDir` (never this script's own); returns what was killed. */
export function killTrainerGroups(outputDir: string): TrainerProcess[] {
  const own = ownGroup();
  const found = trainerProcesses(outputDir).filter((p) => p.pgid !== own);
  for (const pgid of new Set(found.map((p) => p.pgid))) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return found;
}
