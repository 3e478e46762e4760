import {
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeployActivities } from '../contract/deploy-activities';
import type { DistilActivities, DistilStageResult } from '../contract/distil-activities';
import type { EpisodeSummary } from '../contract/episode-summary';
import type { StoreActivities } from '../contract/store-activities';
import type { TrainActivities, TrainStageResult } from '../contract/train-activities';
import type { EvaluationResult, ExperimentInput, ExperimentState, ExperimentSummary, IterationRecord } from '../contract/experiment-config';
import { deriveSeed } from '../core/random';
import { addUsage, NO_USAGE } from '../core/tree';
import { boundedMap } from './bounded-map';
import { evaluateWorkflow } from './evaluate-workflow';
import { pauseSignal, resumeSignal, setConcurrencySignal, statusQuery, type ExperimentStatus } from '../contract/experiment-messages';
import { ExperimentIdKey, IterationKey, MethodKey, StageKey } from '../contract/search-attribute-keys';
import { storedEpisodeWorkflow } from './stored-episode-workflow';
import { stageKey } from '../contract/stage-keys';
import { EMPTY_DATASET } from '../contract/failure-types';

/**
 * One experiment (one method): per iteration evaluate the current model, then (leafe/rft)
 * explore the training tasks, distil, train, deploy, and continue-as-new with the new model.
 * Every stage has a deterministic key; its result is looked up before work starts, so a
 * re-run iteration never redoes a finished stage.
 */
export async function experimentWorkflow(input: ExperimentInput): Promise<ExperimentSummary> {
  const { config, method, experimentId, queues } = input;
  const state: ExperimentState = input.state ?? { iteration: 0, model: config.inference.model, adapter: null, history: [] };
  const it = state.iteration;
  const status: ExperimentStatus = {
    experimentId,
    method,
    iteration: it,
    iterations: config.iterations,
    stage: 'starting',
    paused: state.control?.paused ?? false,
    tasksDone: 0,
    tasksTotal: 0,
    budgetUsed: 0,
    concurrency: state.control?.concurrency ?? config.concurrency.episodes,
    lastPassAtK: state.history.at(-1)?.evaluation.passAtK ?? null,
  };
  setHandler(statusQuery, () => status);
  setHandler(pauseSignal, () => void (status.paused = true));
  setHandler(resumeSignal, () => void (status.paused = false));
  setHandler(setConcurrencySignal, (n: number) => {
    if (Number.isInteger(n) && n >= 1) status.concurrency = n;
  });

  // Short timeouts and heartbeats: a worker that dies mid-stage is noticed in seconds.
  const store = proxyActivities<StoreActivities>({ taskQueue: queues.workflows, startToCloseTimeout: '30 seconds' });
  const distiller = proxyActivities<DistilActivities>({ taskQueue: queues.workflows, startToCloseTimeout: '2 hours', heartbeatTimeout: '30 seconds' });
  const trainer = proxyActivities<TrainActivities>({
    taskQueue: queues.train,
    startToCloseTimeout: '7 days',
    heartbeatTimeout: '1 minute',
    retry: { maximumAttempts: 5, initialInterval: '5s', maximumInterval: '5 minutes' },
  });
  const deployer = proxyActivities<DeployActivities>({ taskQueue: queues.llm, startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 10, maximumInterval: '1 minute' } });

  const key = (stage: string) => stageKey(experimentId, it, stage);
  /** Runs a stage once: a recorded result is reused, a new one is recorded. */
  async function stage<T>(name: string, run: () => Promise<T>): Promise<T> {
    status.stage = name;
    upsertSearchAttributes([{ key: StageKey, value: name }, { key: IterationKey, value: it }]);
    await condition(() => !status.paused);
    const recorded = (await store.lookupStage(key(name))) as T | null;
    if (recorded !== null) return recorded;
    const result = await run();
    await store.recordStage(key(name), result);
    return result;
  }

  upsertSearchAttributes([
    { key: ExperimentIdKey, value: experimentId },
    { key: MethodKey, value: method },
  ]);
  const inference = { ...config.inference, model: state.model };

  // Evaluation progress in sample episodes; the done count comes from the child's own query (the CLI asks it).
  status.tasksDone = 0;
  status.tasksTotal = config.evalTasks.length * config.evaluation.samples;
  const evaluation = await stage<EvaluationResult>('evaluate', () =>
    executeChild(evaluateWorkflow, {
      workflowId: `${experimentId}/it${it}/evaluate`,
      taskQueue: queues.workflows,
      args: [
        {
          iteration: it,
          taskIds: config.evalTasks,
          samples: config.evaluation.samples,
          ks: config.evaluation.ks,
          horizon: config.evaluation.horizon,
          env: config.env,
          inference,
          seed: config.seed,
          queues,
          // The live setting (`leafe concurrency`), as it is when the evaluation starts.
          concurrency: status.concurrency,
          timeouts: config.timeouts,
        },
      ],
    }),
  );
  status.lastPassAtK = evaluation.passAtK;
  const record: IterationRecord = { iteration: it, model: state.model, evaluation, usage: NO_USAGE };

  if (method !== 'base' && it < config.iterations) {
    const episodes = await stage<EpisodeSummary[]>('explore', async () => {
      status.tasksTotal = config.trainTasks.length;
      status.tasksDone = 0;
      return boundedMap(
        config.trainTasks,
        () => status.concurrency,
        async (taskId) => {
          const summary = await executeChild(storedEpisodeWorkflow, {
            workflowId: `${experimentId}/it${it}/explore/${taskId}`,
            taskQueue: queues.workflows,
            args: [{ taskId, env: config.env, seed: deriveSeed(config.seed, 'explore', it, taskId), inference, leafe: config.leafe, queues, timeouts: config.timeouts }],
          });
          status.tasksDone++;
          status.budgetUsed += summary.budget.used;
          return summary;
        },
        () => status.paused,
      );
    });
    record.usage = episodes.reduce((u, e) => addUsage(u, e.usage), NO_USAGE);
    const treesRef = await store.saveJson(episodes.map((e) => ({ taskId: e.taskId, episodeId: e.episodeId, treeRef: e.treeRef })));
    record.explore = {
      episodes: episodes.length,
      solved: episodes.filter((e) => e.success).length,
      budgetUsed: episodes.reduce((n, e) => n + e.budget.used, 0),
      replayed: episodes.reduce((n, e) => n + e.budget.replayed, 0),
      branches: episodes.reduce((n, e) => n + e.branches, 0),
      treesRef,
    };

    const dataset = await stage<DistilStageResult>('distil', () =>
      distiller.distilDatasets({
        experimentId,
        iteration: it,
        method,
        treeRefs: episodes.map((e) => e.treeRef),
        settings: config.distil,
        seed: deriveSeed(config.seed, 'distil', it),
        outDir: `experiments/${experimentId}/it${it}/dataset`,
      }),
    );
    record.dataset = { dir: dataset.dir, sha256: dataset.sha256, cf: dataset.cf, reh: dataset.reh, records: dataset.records };
    if (dataset.records === 0) {
      throw ApplicationFailure.nonRetryable(
        `iteration ${it}: distillation produced no training records (${episodes.length} episodes, ${record.explore.solved} solved); expected at least one success to learn from — raise the exploration budget or the number of training tasks`,
        EMPTY_DATASET,
      );
    }

    const trained = await stage<TrainStageResult>('train', () =>
      trainer.trainAdapter({ trainer: config.trainer, dataset, outputDir: `experiments/${experimentId}/it${it}/train`, previousAdapter: state.adapter }),
    );
    record.train = { adapterPath: trained.adapterPath, resumedFrom: trained.resumedFrom };

    const deployed = await stage('deploy', () =>
      deployer.deployAdapter({ deploy: config.deploy, adapterName: `${experimentId}-it${it + 1}`, adapterPath: trained.adapterPath }),
    );
    record.deploy = deployed;

    status.stage = 'next-iteration';
    await continueAsNew<typeof experimentWorkflow>({
      ...input,
      state: {
        iteration: it + 1,
        model: deployed.model,
        adapter: trained.adapterPath,
        history: [...state.history, record],
        // A pause or concurrency change sent during this iteration (even while deploy ran) holds in the next.
        control: { paused: status.paused, concurrency: status.concurrency },
      },
    });
  }

  status.stage = 'done';
  upsertSearchAttributes([{ key: StageKey, value: 'done' }]);
  const iterations = [...state.history, record];
  const summaryPath = await store.writeJsonFile(`experiments/${experimentId}/summary.json`, {
    experimentId,
    method,
    env: config.env.kind,
    iterations,
    workflowId: workflowInfo().workflowId,
  });
  return { experimentId, method, env: config.env.kind, iterations, summaryPath };
}
