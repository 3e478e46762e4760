import path from 'node:path';
import { existsSync } from 'node:fs';
import type { EnvSpec } from '../core/env-spec';

/** Builds an environment spec from CLI flags, with errors that name the flag. */
export function envSpecFromFlags(opts: { env: string; tasks?: string; levels?: string; count?: string; baseUrl?: string; agentgymEnv?: string }): EnvSpec {
  switch (opts.env) {
    case 'code': {
      if (!opts.tasks) throw new Error('--tasks: missing; expected a JSONL or JSONL.gz file of HumanEval- or MBPP-format tasks');
      const tasks = path.resolve(opts.tasks);
      if (!existsSync(tasks)) throw new Error(`--tasks: ${JSON.stringify(opts.tasks)} does not exist; expected a JSONL or JSONL.gz task file`);
      return { kind: 'code', tasks };
    }
    case 'sokoban': {
      if (opts.levels) {
        const levels = path.resolve(opts.levels);
        if (!existsSync(levels)) throw new Error(`--levels: ${JSON.stringify(opts.levels)} does not exist; expected an XSB/Boxoban level file`);
        return { kind: 'sokoban', levels };
      }
      return { kind: 'sokoban', count: opts.count ? positiveInt('--count', opts.count) : 20 };
    }
    case 'http':
      if (!opts.baseUrl) throw new Error('--base-url: missing; expected the URL of an AgentGym environment server');
      return { kind: 'http', baseUrl: opts.baseUrl, env: opts.agentgymEnv ?? 'textcraft', count: opts.count ? positiveInt('--count', opts.count) : 10 };
    default:
      throw new Error(`--env: ${JSON.stringify(opts.env)} is not an environment; expected code, sokoban or http`);
  }
}

export function nonNegativeInt(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new Error(`${flag}: ${JSON.stringify(value)} is not valid; expected a non-negative integer`);
  return n;
}

/** Counts and sizes (budget, horizon, limit, concurrency...): 0 would run nothing, as the spec schema says. */
export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new Error(`${flag}: ${JSON.stringify(value)} is not valid; expected a positive integer (1 or more)`);
  return n;
}
