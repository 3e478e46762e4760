import type { Command } from 'commander';
import pLimit from 'p-limit';
import { DEFAULT_LEAFE_SETTINGS, DEFAULT_SAMPLING, type InferenceSettings, type LeafeSettings } from '../core/leafe-settings';
import type { EpisodeTree } from '../core/tree';
import { providerFor } from '../envs/registry';
import { defaultRunDir } from '../infra/paths';
import type { EpisodeInput } from '../contract/episode-types';
import type { WorkflowTypes } from '../contract/workflow-types';
import { failureText } from './failure-cause';
import { exitOnInterrupt, untilExit } from './interrupt';
import { checkInferenceServer } from '../inference/server-check';
import { SOKOBAN_EXPLORE_DEFAULTS } from '../envs/sokoban/sokoban-provider';
import { envSpecFromFlags, nonNegativeInt, positiveInt } from './env-options';
import { STALLED_AFTER_ENV, stalledAfterFrom, watchInferenceHealth } from './inference-health';
import { startLocalRuntime, WORKERS_FLAG, WORKERS_FLAG_HELP, workersMode } from './local-runtime';
import { renderTreeText, treeSummary } from './render-tree';

/** `leafe explore`: run LEAFE exploration episodes on the first tasks of an environment and print the trees. */
export function registerExploreCommand(program: Command): void {
  program
    .command('explore')
    .description('explore tasks as LEAFE trees (one episode workflow per task) and print the trees')
    .requiredOption('--env <kind>', 'environment: code, sokoban or http')
    .option('--tasks <file>', 'code: JSONL(.gz) task file (HumanEval or MBPP format)')
    .option('--levels <file>', 'sokoban: XSB/Boxoban level file (default: generated levels)')
    .option('--count <n>', 'sokoban: generated levels; http: task ids 0..n-1')
    .option('--base-url <url>', 'OpenAI-compatible inference server (or AgentGym server with --env http: use --env-url)')
    .option('--env-url <url>', 'http: AgentGym environment server URL')
    .option('--agentgym-env <name>', 'http: AgentGym environment name', 'textcraft')
    .option('--model <name>', 'model name on the inference server')
    .option('--sim', 'start the built-in simulator and use it as the model (tests and dry runs; not a model)')
    .option('--limit <n>', 'first n tasks', '5')
    .option('--seed <n>', 'episode seed', '1')
    .option('--budget <n>', `new environment steps per episode (default: ${DEFAULT_LEAFE_SETTINGS.budget}; sokoban ${SOKOBAN_EXPLORE_DEFAULTS.budget})`)
    .option('--horizon <n>', `maximum trajectory length (default: ${DEFAULT_LEAFE_SETTINGS.horizon}; sokoban ${SOKOBAN_EXPLORE_DEFAULTS.horizon})`)
    .option('--max-depth <n>', 'deepest branch', String(DEFAULT_LEAFE_SETTINGS.maxDepth))
    .option('--max-branches <n>', 'most branches per episode', String(DEFAULT_LEAFE_SETTINGS.maxBranches))
    .option('--reflect-every <k>', 'reflect every k steps (0: only on failure)', String(DEFAULT_LEAFE_SETTINGS.reflectEvery))
    .option('--concurrency <n>', 'episodes at once', '4')
    .option('--run-dir <dir>', 'run directory', defaultRunDir())
    .option('--json', 'print the trees as JSON on stdout')
    .option(WORKERS_FLAG, WORKERS_FLAG_HELP)
    .option('--stalled-after <duration>', `report the run as stalled when every pending inference request has failed for this long (default: ${STALLED_AFTER_ENV} or 10m)`)
    .action(async (opts) => {
      const env = envSpecFromFlags({ ...opts, baseUrl: opts.env === 'http' ? opts.envUrl : undefined });
      // Sokoban needs longer trajectories by default; a flag the user passed always wins.
      const defaults = opts.env === 'sokoban' ? { ...DEFAULT_LEAFE_SETTINGS, ...SOKOBAN_EXPLORE_DEFAULTS } : DEFAULT_LEAFE_SETTINGS;
      const leafe: LeafeSettings = {
        ...DEFAULT_LEAFE_SETTINGS,
        budget: opts.budget === undefined ? defaults.budget : positiveInt('--budget', opts.budget),
        horizon: opts.horizon === undefined ? defaults.horizon : positiveInt('--horizon', opts.horizon),
        maxDepth: nonNegativeInt('--max-depth', opts.maxDepth),
        maxBranches: positiveInt('--max-branches', opts.maxBranches),
        reflectEvery: nonNegativeInt('--reflect-every', opts.reflectEvery),
      };
      const seed = nonNegativeInt('--seed', opts.seed);
      const limit = positiveInt('--limit', opts.limit);
      const concurrency = positiveInt('--concurrency', opts.concurrency);
      const workers = workersMode(opts.workers);
      if (!opts.sim && (!opts.baseUrl || !opts.model)) {
        throw new Error('--base-url/--model: missing; expected an OpenAI-compatible server and model name, or --sim for the simulator');
      }
      const stalledAfterMs = stalledAfterFrom(opts.stalledAfter);
      const taskIds = await providerFor(env).listTasks(limit);
      // Before anything starts: a wrong URL or model fails here in seconds, not as silent retries.
      if (!opts.sim) {
        const { warning } = await checkInferenceServer({ baseUrl: opts.baseUrl, model: opts.model, fields: { baseUrl: '--base-url', model: '--model' } });
        if (warning) process.stderr.write(`leafe: ${warning}\n`);
      }
      // Episodes need the workflows and env queues (inference runs in the env workers' step activity).
      const runtime = await startLocalRuntime({ runDir: opts.runDir, workers, needs: ['workflows', 'env'], sim: opts.sim ? { env, seed } : undefined });
      try {
        const inference: InferenceSettings = {
          ...DEFAULT_SAMPLING,
          baseUrl: runtime.sim ? runtime.sim.url : opts.baseUrl,
          model: runtime.sim ? 'sim-base' : opts.model,
        };
        const runId = `explore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        process.stderr.write(`leafe: exploring ${taskIds.length} task(s) as ${runId}${runtime.uiUrl ? ` (Web UI ${runtime.uiUrl})` : ''}\n`);
        const running = new Set<string>();
        // Exploration is not resumed: interrupted, its episodes are cancelled (sessions closed),
        // and terminated if they have not closed within a few seconds.
        const interrupt = exitOnInterrupt(async () => {
          const ids = [...running];
          await Promise.all(ids.map((id) => runtime.client.workflow.getHandle(id).cancel().catch(() => undefined)));
          const closed = await Promise.race([Promise.all(ids.map((id) => runtime.client.workflow.getHandle(id).result().catch(() => undefined))).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
          if (!closed) await Promise.all([...running].map((id) => runtime.client.workflow.getHandle(id).terminate('leafe explore interrupted').catch(() => undefined)));
          process.stderr.write(`leafe: ${ids.length} running episode(s) cancelled\n`);
          await runtime.close();
        });
        // Retries go on; failing requests are shown while they do (and when they stall).
        const health = watchInferenceHealth({ client: runtime.client, rootIds: () => [...running], stalledAfterMs, log: (l) => process.stderr.write(`${l}\n`) });
        // One failed episode (a broken task) neither hides nor stops the others: each is awaited,
        // the completed trees are printed, and the failures are named at the end.
        const outcomes = await pLimit(concurrency).map(taskIds, async (taskId) => {
          if (interrupt.stopping) return { failure: `task ${taskId}: not started (interrupted)` };
          const input: EpisodeInput = { taskId, env, seed, inference, leafe, queues: runtime.queues };
          const workflowId = `${runId}/${taskId}`;
          running.add(workflowId);
          try {
            const tree: EpisodeTree = await runtime.client.workflow.execute<WorkflowTypes['episodeWorkflow']>('episodeWorkflow', { taskQueue: runtime.queues.workflows, workflowId, args: [input] });
            if (!opts.json) process.stdout.write(`${renderTreeText(tree)}\n\n`);
            return { tree };
          } catch (err) {
            const failure = `task ${taskId} (episode ${workflowId}): ${failureText(err)}`;
            process.stderr.write(`leafe: ${failure}\n`);
            return { failure };
          } finally {
            running.delete(workflowId);
          }
        }).finally(() => health.stop());
        if (interrupt.stopping) return untilExit();
        interrupt.dispose();
        const trees = outcomes.flatMap((o) => (o.tree ? [o.tree] : []));
        const failures = outcomes.flatMap((o) => (o.failure ? [o.failure] : []));
        if (opts.json) process.stdout.write(`${JSON.stringify(trees.map(treeSummary), null, 2)}\n`);
        else process.stdout.write(`solved ${trees.filter((t) => t.success).length}/${trees.length}; budget used ${trees.reduce((n, t) => n + t.budget.used, 0)} steps\n`);
        if (failures.length) throw new Error(`${failures.length} of ${taskIds.length} episode(s) failed:\n  ${failures.join('\n  ')}`);
      } finally {
        await runtime.close();
      }
    });
}
