import { parseArgs } from 'node:util';
import { loadCodeTasks } from '../envs/code/code-tasks';
import { createCodePolicy } from './policies/code-policy';
import { createSokobanPolicy } from './policies/sokoban-policy';
import type { SimPolicy } from './policy';
import { DEFAULT_BASE_SKILL } from '../contract/sim-skill';
import { startSimServer } from './sim-server';
import { parseSimSkill } from './sim-trainer';

/**
 * Runs the simulator server standalone (demos, manual poking with curl or the openai client).
 * It is a stand-in for an inference server in tests and dry runs, not a model.
 *
 *   node --import tsx sim/sim-main.ts [--port 8000] [--seed 0] [--tasks data/HumanEval.jsonl.gz]
 *     [--sokoban] [--base-model sim-base] [--skill '{"firstTry":0.3,...}'] [--latency-ms 200]
 *     [--latency-dist lognormal|fixed] [--fault-500 0.05] [--fault-429 0.05] [--fault-hang 0.01]
 *     [--hang-ms 30000] [--capacity 8] [--malformed-reflection-rate 0.1]
 */

function fail(message: string): never {
  process.stderr.write(`sim-main: ${message}\n`);
  process.exit(2);
}

function num(name: string, value: string | undefined, min: number, max = Infinity): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} ${JSON.stringify(value)}: expected a number in [${min}, ${max}]`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8000' },
        host: { type: 'string', default: '127.0.0.1' },
        seed: { type: 'string', default: '0' },
        tasks: { type: 'string', multiple: true },
        sokoban: { type: 'boolean', default: false },
        'base-model': { type: 'string' },
        skill: { type: 'string' },
        'latency-ms': { type: 'string' },
        'latency-dist': { type: 'string', default: 'lognormal' },
        'fault-500': { type: 'string' },
        'fault-429': { type: 'string' },
        'fault-hang': { type: 'string' },
        'hang-ms': { type: 'string' },
        capacity: { type: 'string' },
        'malformed-reflection-rate': { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }

  const policies: SimPolicy[] = [];
  for (const file of values.tasks ?? []) {
    try {
      policies.push(createCodePolicy(await loadCodeTasks(file)));
    } catch (err) {
      fail(`--tasks ${JSON.stringify(file)}: ${(err as Error).message}`);
    }
  }
  if (values.sokoban) policies.push(createSokobanPolicy());
  if (policies.length === 0) fail('no policy: expected --tasks <code tasks JSONL[.gz]> and/or --sokoban');

  let skill;
  if (values.skill !== undefined) {
    try {
      skill = parseSimSkill({ ...DEFAULT_BASE_SKILL, ...JSON.parse(values.skill) }, '--skill');
    } catch (err) {
      fail(`--skill ${JSON.stringify(values.skill)}: ${(err as Error).message}`);
    }
  }
  const dist = values['latency-dist'];
  if (dist !== 'lognormal' && dist !== 'fixed') fail(`--latency-dist ${JSON.stringify(dist)}: expected lognormal or fixed`);
  const latencyMs = num('latency-ms', values['latency-ms'], 0);
  const capacity = num('capacity', values.capacity, 1);
  if (capacity !== undefined && !Number.isInteger(capacity)) fail(`--capacity ${capacity}: expected a positive integer`);

  const server = await startSimServer({
    seed: num('seed', values.seed, -(2 ** 31)),
    port: num('port', values.port, 0, 65535),
    host: values.host,
    policies,
    baseModel: values['base-model'],
    skill,
    latency: latencyMs ? { meanMs: latencyMs, distribution: dist } : undefined,
    faults: {
      http500: num('fault-500', values['fault-500'], 0, 1),
      http429: num('fault-429', values['fault-429'], 0, 1),
      hang: num('fault-hang', values['fault-hang'], 0, 1),
      hangMs: num('hang-ms', values['hang-ms'], 0),
    },
    capacity,
    malformedReflectionRate: num('malformed-reflection-rate', values['malformed-reflection-rate'], 0, 1),
  });
  process.stdout.write(`simulator (not a model) listening on ${server.url}\n`);
  const stop = () => {
    process.stdout.write(`stats: ${JSON.stringify({ ...server.stats(), perKey: undefined, completedPerKey: undefined })}\n`);
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
