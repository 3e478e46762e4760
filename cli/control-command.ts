import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/client';
import { pauseSignal, resumeSignal, setConcurrencySignal, statusQuery, type ExperimentStatus } from '../contract/experiment-messages';
import { addInspectionOptions, withInspection, type InspectionFlags } from './inspection-options';
import { statusLine } from './status-command';

async function runningExperiment(client: Client, experimentId: string) {
  const handle = client.workflow.getHandle(experimentId);
  const d = await handle.describe().catch((err: unknown) => {
    throw new Error(`experiment id: ${JSON.stringify(experimentId)} is not a workflow on this server (${err instanceof Error ? err.message : String(err)}); expected an id listed by \`leafe runs\``);
  });
  if (d.type !== 'experimentWorkflow') throw new Error(`experiment id: ${JSON.stringify(experimentId)} is a ${d.type}; expected an experimentWorkflow`);
  if (d.status.name !== 'RUNNING') throw new Error(`experiment ${experimentId} is ${d.status.name}; expected a RUNNING experiment`);
  return handle;
}

/**
 * Signals, then reads the status back (a query after a signal sees the signal applied). The
 * signal is durable once sent: with no worker polling the workflows queue the query cannot be
 * answered, and the caller is told so instead of failing.
 */
async function signalAndRead<Args extends unknown[]>(client: Client, experimentId: string, signal: SignalDefinition<Args>, ...args: Args): Promise<ExperimentStatus> {
  const handle = await runningExperiment(client, experimentId);
  await handle.signal(signal, ...args);
  try {
    return await handle.query(statusQuery);
  } catch (err) {
    throw new Error(`${signal.name}: signal delivered to ${experimentId} (it applies when a worker runs the workflow), but the status query got no answer (${err instanceof Error ? err.message : String(err)}); expected a worker polling the workflows task queue`, { cause: err });
  }
}

/** Pause: running activities and children finish; no new stage or episode starts. */
export function pauseExperiment(client: Client, experimentId: string): Promise<ExperimentStatus> {
  return signalAndRead(client, experimentId, pauseSignal);
}

export function resumeExperiment(client: Client, experimentId: string): Promise<ExperimentStatus> {
  return signalAndRead(client, experimentId, resumeSignal);
}

/** How many exploration episodes run at once from now on (takes effect as episodes finish). */
export function setExperimentConcurrency(client: Client, experimentId: string, n: number): Promise<ExperimentStatus> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`concurrency: ${JSON.stringify(n)}; expected an integer >= 1`);
  return signalAndRead(client, experimentId, setConcurrencySignal, n);
}

/**
 * Requests cancellation of the experiment. It propagates: the experiment's children (evaluate,
 * episodes, branches) are started with the default ChildWorkflowCancellationType
 * WAIT_CANCELLATION_COMPLETED, so the cancelled scope requests their cancellation and waits for
 * it; activities (default ActivityCancellationType TRY_CANCEL) are told on their next heartbeat,
 * and the trainer activity kills its process group when that happens. With `wait`, returns the
 * final status (CANCELED, or what it became if it closed first).
 */
export async function cancelExperiment(client: Client, experimentId: string, opts: { wait?: boolean } = {}): Promise<string> {
  const handle = await runningExperiment(client, experimentId);
  await handle.cancel();
  if (!opts.wait) return 'CANCEL_REQUESTED';
  await handle.result().catch(() => undefined);
  return (await handle.describe()).status.name;
}

function positiveCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new Error(`<n>: ${JSON.stringify(value)}; expected an integer >= 1 (episodes at once)`);
  return n;
}

/** `leafe pause|resume|cancel <id>` and `leafe concurrency <id> <n>`. */
export function registerControlCommands(program: Command): void {
  addInspectionOptions(
    program.command('pause').description('pause an experiment: running activities finish, nothing new starts').argument('<experimentId>'),
  ).action(async (id: string, opts: InspectionFlags) => {
    const s = await withInspection(opts, (ctx) => pauseExperiment(ctx.client, id));
    process.stdout.write(`paused; running activities and episodes finish, nothing new starts\n${statusLine(s)}\n`);
  });
  addInspectionOptions(program.command('resume').description('resume a paused experiment').argument('<experimentId>')).action(async (id: string, opts: InspectionFlags) => {
    const s = await withInspection(opts, (ctx) => resumeExperiment(ctx.client, id));
    process.stdout.write(`resumed\n${statusLine(s)}\n`);
  });
  addInspectionOptions(
    program
      .command('cancel')
      .description('cancel an experiment; cancellation reaches its child workflows and activities (trainer processes are killed)')
      .argument('<experimentId>')
      .option('--wait', 'wait until the experiment has closed'),
  ).action(async (id: string, opts: InspectionFlags & { wait?: boolean }) => {
    const status = await withInspection(opts, (ctx) => cancelExperiment(ctx.client, id, { wait: opts.wait }));
    process.stdout.write(status === 'CANCEL_REQUESTED' ? `cancellation requested for ${id}; follow it with: leafe status ${id}\n` : `${id}: ${status}\n`);
  });
  addInspectionOptions(
    program.command('concurrency').description('change how many exploration episodes of a running experiment run at once').argument('<experimentId>').argument('<n>'),
  ).action(async (id: string, n: string, opts: InspectionFlags) => {
    const count = positiveCount(n);
    const s = await withInspection(opts, (ctx) => setExperimentConcurrency(ctx.client, id, count));
    process.stdout.write(`exploration concurrency set to ${s.concurrency}\n${statusLine(s)}\n`);
  });
}
