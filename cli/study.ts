import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { rawStderr } from './terminal-guard';
import { failureText } from './failure-cause';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import type { ExperimentInput, Method } from '../contract/experiment-config';
import { archiveExperiment } from './archive-experiment';
import { resultDefiningSpec } from '../contract/experiment-fingerprint';
import type { LoadedSpec } from '../spec/load-spec';
import { withSimulator } from '../spec/load-spec';
import { stageTimings, type StageTiming } from '../report/stage-timings';
import { writeReport } from '../report/write-report';
import type { StudySummary } from '../report/study-summary';
import type { TaskQueues } from '../contract/task-queues';
import { withEvaluationProgress } from './evaluation-progress';
import { statusQuery, type ExperimentStatus } from '../contract/experiment-messages';
import type { WorkflowTypes } from '../contract/workflow-types';
import { ExperimentIdKey, MethodKey } from '../contract/search-attribute-keys';
import { claimExperimentIds, specRecord } from './spec-record';

type ExperimentHandle = WorkflowHandle<WorkflowTypes['experimentWorkflow']>;

export interface StudyRecord {
  studyId: string;
  spec: string;
  runDir: string;
  simulator: boolean;
  experiments: Record<string, string>;
}

export function experimentLink(uiUrl: string | null, namespace: string, workflowId: string): string | null {
  return uiUrl ? `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}` : null;
}

/**
 * Starts one experimentWorkflow per method, identical config (budgets, seeds), and records the
 * study. A study id used before resumes its experiments (finished stages are reused) only with
 * the same spec; with another one it is refused before anything starts (cli/spec-record.ts).
 */
export async function startStudy(client: Client, loaded: LoadedSpec, queues: TaskQueues, simUrl: string | null, studyId: string): Promise<{ record: StudyRecord; handles: Map<Method, ExperimentHandle> }> {
  const config = simUrl ? withSimulator(loaded.config, simUrl) : loaded.config;
  const spec = resultDefiningSpec(loaded.config, loaded.simulator.enabled ? loaded.simulator : null, loaded.trainerIdentity);
  const idOf = (method: Method) => `${studyId}-${method}`;
  const warnings = await claimExperimentIds(
    config.runDir,
    studyId,
    loaded.methods.map((method) => specRecord(idOf(method), loaded.file, { method, ...spec })),
  );
  for (const w of warnings) process.stderr.write(`leafe: warning: ${w}\n`);
  const handles = new Map<Method, ExperimentHandle>();
  const experiments: Record<string, string> = {};
  for (const method of loaded.methods) {
    const experimentId = idOf(method);
    const input: ExperimentInput = { experimentId, method, config, queues };
    const handle = await client.workflow
      .start<WorkflowTypes['experimentWorkflow']>('experimentWorkflow', {
        taskQueue: queues.workflows,
        workflowId: experimentId,
        args: [input],
        typedSearchAttributes: [
          { key: ExperimentIdKey, value: experimentId },
          { key: MethodKey, value: method },
        ],
      })
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        throw new Error(`--id ${studyId}: experiment ${experimentId} is still running; expected a new --id, or follow it with: leafe status ${experimentId}`, { cause: err });
      });
    handles.set(method, handle);
    experiments[method] = experimentId;
  }
  const record: StudyRecord = { studyId, spec: loaded.file, runDir: config.runDir, simulator: Boolean(simUrl), experiments };
  await mkdir(path.join(config.runDir, 'studies'), { recursive: true });
  await writeFile(path.join(config.runDir, 'studies', `${studyId}.json`), JSON.stringify(record, null, 2));
  return { record, handles };
}

export async function readStudy(runDir: string, studyId: string): Promise<StudyRecord | null> {
  try {
    return JSON.parse(await readFile(path.join(runDir, 'studies', `${studyId}.json`), 'utf8')) as StudyRecord;
  } catch {
    return null;
  }
}

function howItEnded(err: unknown): string {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  if (cause instanceof CancelledFailure) return 'was cancelled';
  if (cause instanceof TerminatedFailure) return 'was terminated';
  // The root cause (the server's or the trainer's message), not "Activity task failed".
  return `failed: ${failureText(err)}`;
}

/**
 * Waits for every experiment, showing live progress from the `status` query. One that fails or
 * is cancelled does not end the wait: its siblings go on to their end, then the failures are
 * reported together.
 */
export async function waitForStudy(record: StudyRecord, handles: Map<Method, ExperimentHandle>, showProgress: boolean): Promise<StudySummary> {
  const tty = showProgress && process.stderr.isTTY;
  const bars = tty ? new cliProgress.MultiBar({ format: ' {method} [{bar}] {value}/{total} episodes | it {iteration}/{iterations} {stage} | budget {budget} | pass@1 {pass1}', hideCursor: true, clearOnComplete: false, stream: rawStderr }, cliProgress.Presets.shades_classic) : null;
  const bar = new Map<Method, cliProgress.SingleBar>();
  const lastLine = new Map<Method, string>();
  const poll = async () => {
    for (const [method, handle] of handles) {
      let s: ExperimentStatus;
      try {
        s = await withEvaluationProgress(handle.client, await handle.query(statusQuery));
      } catch {
        continue; // between runs (continue-as-new) or finished
      }
      const payload = { method: method.padEnd(5), iteration: s.iteration, iterations: s.iterations, stage: s.stage.padEnd(10), budget: s.budgetUsed, pass1: s.lastPassAtK?.['1']?.toFixed(3) ?? '-' };
      if (bars) {
        if (!bar.has(method)) bar.set(method, bars.create(Math.max(1, s.tasksTotal), 0, payload));
        bar.get(method)!.setTotal(Math.max(1, s.tasksTotal));
        bar.get(method)!.update(s.tasksDone, payload);
      } else if (showProgress) {
        const line = `leafe: ${method} iteration ${s.iteration}/${s.iterations} ${s.stage}`;
        if (lastLine.get(method) !== line) process.stderr.write(`${line}\n`);
        lastLine.set(method, line);
      }
    }
  };
  // One poll at a time, awaited before returning: a query still retrying after the caller closes
  // the connection would throw "Channel has been shut down" from a timer and crash the process.
  let inflight: Promise<void> | null = null;
  const timer = setInterval(() => {
    inflight ??= poll()
      .catch(() => undefined)
      .finally(() => {
        inflight = null;
      });
  }, 1000);
  try {
    // Every experiment runs to its end, whatever happens to a sibling: this process may be what
    // they run on (in-process workers, the simulator), and it stops when this returns.
    const open = new Set([...handles.values()].map((h) => h.workflowId));
    const outcomes = await Promise.all(
      [...handles].map(async ([method, handle]) => {
        try {
          return { summary: await handle.result() };
        } catch (err) {
          const failure = `${method} experiment ${handle.workflowId} ${howItEnded(err)}`;
          const running = [...open].filter((id) => id !== handle.workflowId);
          if (running.length) process.stderr.write(`leafe: ${failure}; the study waits for ${running.join(', ')} to finish (stop them with: leafe cancel <id>)\n`);
          return { failure };
        } finally {
          open.delete(handle.workflowId);
        }
      }),
    );
    const summaries = outcomes.flatMap((o) => (o.summary ? [o.summary] : []));
    const failures = outcomes.flatMap((o) => (o.failure ? [o.failure] : []));
    // The audit trail: every closed experiment's histories go to <runDir>/archive/<id>/ (the
    // report's stage wall times are read back from them). A failed export does not undo a
    // finished study: it is reported, and `leafe archive <id>` retries it.
    const timings = new Map<string, StageTiming[]>();
    for (const handle of handles.values()) {
      await archiveExperiment({ workflows: handle.client, experimentId: handle.workflowId, runDir: record.runDir })
        .then(async (archived) => timings.set(handle.workflowId, await stageTimings(archived.indexFile)))
        .catch((err: unknown) =>
          process.stderr.write(`leafe: archiving ${handle.workflowId} failed (${err instanceof Error ? err.message : String(err)}); retry with: leafe archive ${handle.workflowId}\n`),
        );
    }
    if (failures.length) {
      throw new Error(`study ${record.studyId}: ${failures.join('; ')}; ${summaries.length} of ${handles.size} experiments finished (their summaries are in ${path.join(record.runDir, 'experiments')}/<id>/summary.json); no report written`);
    }
    const report = await writeReport(record.runDir, record.studyId, summaries, record.simulator, timings);
    return report;
  } finally {
    clearInterval(timer);
    await inflight;
    bars?.stop();
  }
}
