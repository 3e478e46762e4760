import type { Command } from 'commander';
import { loadSpec, type LoadedSpec } from '../spec/load-spec';
import { SAFE_NAME, SAFE_NAME_EXPECTED } from '../spec/experiment-spec-schema';
import { passAtKTable } from '../report/study-summary';
import type { QueueRole } from '../contract/task-queues';
import { checkInferenceServer } from '../inference/server-check';
import { STALLED_AFTER_ENV, stalledAfterFrom, watchInferenceHealth } from './inference-health';
import { assertRealEnvReady } from '../runtime/real-model-env';
import { startLocalRuntime, WORKERS_FLAG, WORKERS_FLAG_HELP, workersMode, workersRunHere } from './local-runtime';
import { ensureLocalVllm } from './local-vllm';
import { exitOnInterrupt, untilExit, type Interrupt } from './interrupt';
import { experimentLink, startStudy, waitForStudy } from './study';

export interface RunOptions {
  wait?: boolean;
  /** `--workers local|external`. */
  workers?: string;
  json?: boolean;
  runDir?: string;
  id?: string;
  stalledAfter?: string;
}

/** The spec's inference server answers and serves the model (after a local vLLM is up). */
async function checkSpecInference(loaded: LoadedSpec, log: (line: string) => void): Promise<void> {
  if (loaded.simulator.enabled) return;
  const { inference } = loaded.config;
  const { warning } = await checkInferenceServer({ baseUrl: inference.baseUrl, model: inference.model, apiKeyEnv: inference.apiKeyEnv, fields: { baseUrl: 'inference.baseUrl', model: 'inference.model' } });
  if (warning) log(`leafe: ${warning}`);
}

/** Launches a study from a loaded spec; with `wait`, shows progress and prints the summary. */
export async function runStudy(loaded: LoadedSpec, opts: RunOptions): Promise<void> {
  const { config } = loaded;
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const workers = workersMode(opts.workers);
  const stalledAfterMs = stalledAfterFrom(opts.stalledAfter);
  // The study id names folders under the run directory and workflow ids: `--id ../../x` must not escape.
  if (opts.id !== undefined && !SAFE_NAME.test(opts.id)) throw new Error(`--id: got ${JSON.stringify(opts.id)}; expected ${SAFE_NAME_EXPECTED}`);
  // Before anything starts (no vLLM, no server, no workflow): the real-model environment must be
  // here when this process starts vLLM or runs the workers that train. External workers check theirs.
  if (loaded.realEnv && (loaded.localVllm || workersRunHere(workers))) assertRealEnvReady(loaded.realEnv);
  // A wrong URL or model fails here in seconds, before any workflow starts.
  if (!loaded.localVllm) await checkSpecInference(loaded, log);
  const vllm = loaded.localVllm ? await ensureLocalVllm(loaded.localVllm, config.runDir, log) : null;
  if (loaded.localVllm) {
    await checkSpecInference(loaded, log).catch(async (err: unknown) => {
      await vllm?.stop();
      throw err;
    });
  }
  const runtime = await startLocalRuntime({
    runDir: config.runDir,
    workers,
    needs: studyNeeds(loaded),
    sim: loaded.simulator.enabled
      ? {
          env: config.env,
          seed: loaded.simulator.seed ?? config.seed,
          skill: loaded.simulator.skill,
          latency: loaded.simulator.latencyMs ? { meanMs: loaded.simulator.latencyMs, distribution: 'lognormal' } : undefined,
          capacity: loaded.simulator.capacity,
        }
      : undefined,
  }).catch(async (err: unknown) => {
    await vllm?.stop();
    throw err;
  });
  let interrupt: Interrupt | undefined;
  try {
    const studyId = opts.id ?? `${config.name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
    const { record, handles } = await startStudy(runtime.client, loaded, runtime.queues, runtime.sim?.url ?? null, studyId);
    for (const [method, id] of Object.entries(record.experiments)) {
      const link = experimentLink(runtime.uiUrl, runtime.settings.namespace, id);
      process.stderr.write(`leafe: started ${method} experiment ${id}${link ? `  ${link}` : ''}\n`);
    }
    // In-process workers and the simulator live in this process: leaving would stop the run.
    const mustWait = opts.wait || runtime.ownsWork || vllm !== null;
    if (!mustWait) {
      process.stdout.write(opts.json ? `${JSON.stringify({ studyId, experiments: record.experiments })}\n` : `study ${studyId} started; follow it with: leafe status ${Object.values(record.experiments)[0]}\n`);
      return;
    }
    if (!opts.wait) process.stderr.write(`leafe: this process runs the ${runtime.ownsWork ? 'workers (embedded mode)' : 'local vLLM'}, so it waits for the study to finish\n`);
    // A study is durable: interrupted, it stays on the server, to be resumed or cancelled.
    interrupt = exitOnInterrupt(async () => {
      const ids = Object.values(record.experiments);
      process.stderr.write(`leafe: the study's experiments (${ids.join(', ')}) stay on the Temporal server${runtime.ownsWork ? ' and make no progress without this process' : ''}; resume with: leafe run ${loaded.file} --id ${studyId}${opts.runDir ? ` --run-dir ${opts.runDir}` : ''}; stop them with: leafe cancel <experimentId>\n`);
      await runtime.close();
      await vllm?.stop();
    });
    // Retries go on; failing requests are shown while they do (and when they stall).
    const health = watchInferenceHealth({ client: runtime.client, rootIds: () => Object.values(record.experiments), stalledAfterMs, log });
    const summary = await waitForStudy(record, handles, !opts.json || process.stderr.isTTY).finally(() => health.stop());
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      if (summary.simulator) process.stdout.write('Model: the built-in SIMULATOR (scripted stand-in, not a model). These numbers test the pipeline only.\n');
      else process.stdout.write(`Model: ${config.inference.model} at ${config.inference.baseUrl} (real inference).\n`);
      process.stdout.write(`\n${passAtKTable(summary)}\n\nreport: ${summary.reportPath}\n`);
    }
  } catch (err) {
    if (interrupt?.stopping) return untilExit(); // the workers were stopped under it: not a failure
    throw err;
  } finally {
    interrupt?.dispose();
    if (!interrupt?.stopping) {
      await runtime.close();
      await vllm?.stop();
    }
  }
}

/** The queues a study's workflows use: episodes (workflows, env), and training + deployment when a method learns. */
export function studyNeeds(loaded: LoadedSpec): QueueRole[] {
  const learns = loaded.config.iterations > 0 && loaded.methods.some((m) => m !== 'base');
  const needs: QueueRole[] = ['workflows', 'env'];
  if (learns || loaded.config.inference.requestsFrom === 'llm-workers') needs.push('llm');
  if (learns) needs.push('train');
  return needs;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('launch a durable experiment (or a study: several methods side by side) from a YAML/JSON spec')
    .argument('<spec>', 'experiment spec file')
    .option('--wait', 'show live progress and print the summary when done')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--run-dir <dir>', 'run directory (overrides the spec)')
    .option('--id <studyId>', 'study id (default: <name>-<timestamp>)')
    .option(WORKERS_FLAG, WORKERS_FLAG_HELP)
    .option('--stalled-after <duration>', `while waiting: report the run as stalled when every pending inference request has failed for this long (default: ${STALLED_AFTER_ENV} or 10m)`)
    .action(async (file: string, opts: RunOptions) => {
      const loaded = await loadSpec(file, { runDir: opts.runDir });
      await runStudy(loaded, opts);
    });
}
