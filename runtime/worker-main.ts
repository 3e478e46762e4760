// Worker process: every task queue for local runs, or selected ones (--queues) in production.
// SIGINT/SIGTERM shut down cleanly: the Temporal runtime stops polling and gives in-flight
// activities the grace period before cancelling them.
import { setTimeout as sleep } from 'node:timers/promises';
import type { NativeConnection } from '@temporalio/worker';
import { Command, InvalidArgumentError, Option } from 'commander';
import { connectWorker, temporalSettings, type TemporalSettings } from './connection';
import { defaultRunDir } from '../infra/paths';
import { describeSandbox } from '../envs/code/sandbox';
import { createWorkers } from './create-workers';
import { QUEUE_ROLES, taskQueues, type QueueRole } from '../contract/task-queues';

/** Longest wait between connection attempts while the server is down. */
const MAX_CONNECT_BACKOFF_MS = 30_000;

export function parseQueueRoles(value: string): QueueRole[] {
  const roles = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const role of roles) {
    if (!QUEUE_ROLES.includes(role as QueueRole)) {
      throw new Error(`--queues: ${JSON.stringify(role)} is not a queue; expected a comma-separated subset of ${QUEUE_ROLES.join(',')}`);
    }
  }
  return roles as QueueRole[];
}

/** A flag's value as a positive integer, or an error naming the flag (0 would serve nothing, silently). */
function positiveIntFlag(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag}: got ${JSON.stringify(value)}; expected a positive integer`);
    return n;
  };
}

/**
 * Connects, retrying with backoff while the server cannot be reached (a worker started before
 * its server, or during a restart, waits instead of exiting), saying so each time.
 */
async function connectWithBackoff(settings: TemporalSettings): Promise<NativeConnection> {
  for (let attempt = 1, delayMs = 1_000; ; attempt++, delayMs = Math.min(delayMs * 2, MAX_CONNECT_BACKOFF_MS)) {
    try {
      return await connectWorker(settings);
    } catch (err) {
      process.stderr.write(`leafe worker ${process.pid}: cannot reach Temporal at ${settings.address} (attempt ${attempt}: ${err instanceof Error ? err.message : String(err)}); retrying in ${delayMs / 1000} s\n`);
      await sleep(delayMs);
    }
  }
}

async function main() {
  const program = new Command('leafe-worker')
    .description('Run leafe workers against a Temporal server, cluster or Temporal Cloud')
    .option('--queues <roles>', `queue roles to serve (${QUEUE_ROLES.join(',')})`, QUEUE_ROLES.join(','))
    .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--api-key <key>', 'Temporal Cloud API key (env TEMPORAL_API_KEY)')
    .option('--tls', 'use TLS (env TEMPORAL_TLS=true)')
    .option('--tls-cert <file>', 'client certificate (env TEMPORAL_TLS_CERT)')
    .option('--tls-key <file>', 'client key (env TEMPORAL_TLS_KEY)')
    .option('--tls-ca <file>', 'server CA (env TEMPORAL_TLS_CA)')
    .option('--task-queue-prefix <prefix>', 'prefix of the task queue names', process.env.LEAFE_TASK_QUEUE_PREFIX ?? 'leafe')
    .option('--run-dir <dir>', 'run directory (artifacts, datasets)', defaultRunDir())
    .addOption(new Option('--llm-concurrency <n>', 'concurrent inference requests per process (llm queue activities; takeStep on env workers)').argParser(positiveIntFlag('--llm-concurrency')))
    .addOption(new Option('--env-concurrency <n>', 'concurrent environment steps per process').argParser(positiveIntFlag('--env-concurrency')))
    .parse();
  const opts = program.opts();
  const roles = parseQueueRoles(opts.queues);
  if (roles.includes('env')) {
    // Said at start, not discovered at the first code task: what isolation untrusted code gets here.
    const sandbox = await describeSandbox().catch((err: unknown) => `code sandbox unavailable: ${err instanceof Error ? err.message : String(err)}`);
    process.stderr.write(`leafe worker ${process.pid}: ${sandbox}\n`);
  }
  const settings = temporalSettings({ address: opts.address, namespace: opts.namespace, apiKey: opts.apiKey, tls: opts.tls, tlsCert: opts.tlsCert, tlsKey: opts.tlsKey, tlsCa: opts.tlsCa });
  const connection = await connectWithBackoff(settings);
  const workers = await createWorkers({
    connection,
    namespace: settings.namespace,
    queues: taskQueues(opts.taskQueuePrefix),
    roles,
    runDir: opts.runDir,
    concurrency: { llm: opts.llmConcurrency, env: opts.envConcurrency },
  });
  process.stderr.write(`leafe worker ${process.pid}: serving ${roles.join(',')} on ${settings.address}/${settings.namespace} (session queue ${workers.sessionQueue})\n`);
  await workers.run();
  await connection.close();
  process.stderr.write(`leafe worker ${process.pid}: stopped\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
