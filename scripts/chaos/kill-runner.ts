/**
 * Carries out a kill schedule (./kill-plan) on a running study: at each kill point the run is held
 * (./progress-gate), the kill is done (a worker SIGKILL with a restart in the background, or a
 * server disruption of ./deployments), and the run goes on. Each kill is logged with the progress
 * it came at, e.g. `kill 3/6 (worker 3/5) at 19/48 distinct requests answered: …`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { Method } from '../../contract/experiment-config';
import type { WorkerProcess } from '../../runtime/worker-process';
import type { Deployment } from './deployments';
import { killName, type KillSchedule, type PlannedKill } from './kill-plan';
import type { ProgressGate } from './progress-gate';
import { withTimeout } from './with-timeout';

/** What was carried out, filled in as it happens. */
export interface KillRecord {
  worker: number;
  server: number;
  /** 200 ms re-checks a worker kill waited for a slow-recovery activity. */
  postponed: number;
  log: string[];
}

/**
 * Experiment-level activities whose lost attempt Temporal notices only after 30 s to 2 min
 * (timeouts fixed in experimentWorkflow: distil 30 s heartbeat, train 1 min heartbeat, deploy
 * 2 min start-to-close): a worker kill is postponed while one is pending. The experiments of a
 * study run side by side, so one may be in such a stage whatever the progress.
 */
const SLOW_RECOVERY_ACTIVITIES = ['distilDatasets', 'deployAdapter', 'trainAdapter'];

/** Time for the simulator to see a killed worker's connections drop before held answers go out. */
const SETTLE_MS = 50;

export async function carryOutKills(p: {
  schedule: KillSchedule;
  gate: ProgressGate;
  deployment: Deployment;
  handles: Map<Method, WorkflowHandle>;
  kills: KillRecord;
  /** `<seconds into the run>s (<UTC time>)`, for finding a kill in the server's logs. */
  elapsed: () => string;
  log: (line: string) => void;
}): Promise<void> {
  const { schedule, gate, deployment, kills } = p;
  const { workers } = deployment;
  const record = (line: string) => {
    kills.log.push(line);
    p.log(line);
  };

  /** `leafe:it0/explore rft:it0/distil`: where each experiment is (search attributes Stage and Iteration). */
  const stages = async (): Promise<string> => {
    const each = await Promise.all(
      [...p.handles].map(async ([method, h]) => {
        try {
          const d = await withTimeout(h.describe(), 3000);
          const stage = d.searchAttributes?.Stage?.[0];
          const iteration = d.searchAttributes?.Iteration?.[0];
          if (d.status.name !== 'RUNNING') return `${method}:${d.status.name.toLowerCase()}`;
          return `${method}:${typeof stage === 'string' ? `it${typeof iteration === 'number' ? iteration : 0}/${stage}` : 'starting'}`;
        } catch {
          return `${method}:?`;
        }
      }),
    );
    return each.join(' ');
  };

  /** The slow-recovery activity pending on an experiment, if any (a kill then costs minutes). */
  const slowActivityPending = async (): Promise<string | null> => {
    for (const h of p.handles.values()) {
      const d = await withTimeout(h.describe(), 3000);
      const slow = (d.raw.pendingActivities ?? []).find((a) => SLOW_RECOVERY_ACTIVITIES.includes(a.activityType?.name ?? ''));
      if (slow) return slow.activityType!.name!;
    }
    return null;
  };

  // Restarts under way, in the background: while a killed worker restarts, the next worker in turn
  // can die (with one worker, as in the dev deployment, kills stay strictly sequential).
  const restarts = new Map<WorkerProcess, Promise<void>>();

  const at = async (kill: PlannedKill) => {
    const off = gate.requests === kill.atRequests ? '' : ` (planned ${kill.atRequests})`;
    return `${killName(schedule, kill)} at ${gate.requests}/${schedule.totalRequests} distinct requests answered${off}, ${p.elapsed()} [${await stages()}]`;
  };

  const serverKill = async (kill: PlannedKill) => {
    // Not while a worker restarts: its "serving" line (which the restart waits for) would wait out the downtime.
    await Promise.all(restarts.values());
    const where = await at(kill);
    const disruption = deployment.disruptions[(kill.ofKind - 1) % deployment.disruptions.length];
    const what = await disruption.run(kill.downtimeMs ?? 0);
    kills.server++;
    record(`${where}: ${what}`);
  };

  const workerKill = async (kill: PlannedKill) => {
    const worker = workers[(kill.ofKind - 1) % workers.length];
    await restarts.get(worker);
    // Postpone (re-check every 200 ms) while a minutes-long experiment activity is pending; the
    // gate holds the run at its kill point meanwhile (those activities ask the model nothing).
    let postponedHere = 0;
    let postponedFor = '';
    while (!gate.isClosed) {
      let slow: string | null = 'describe';
      try {
        slow = await slowActivityPending();
      } catch {
        // the server is not answering yet: try again
      }
      if (!slow) break;
      postponedFor = slow;
      postponedHere++;
      await sleep(200);
    }
    kills.postponed += postponedHere;
    if (gate.isClosed) return;
    const where = await at(kill);
    const pid = worker.pid;
    await worker.sigkill();
    kills.worker++;
    record(`${where}: ${worker.name} SIGKILL (pid ${pid})${postponedHere ? ` (postponed ${postponedHere}×200 ms past ${postponedFor})` : ''}`);
    const killedAt = Date.now();
    const name = killName(schedule, kill);
    restarts.set(
      worker,
      worker.start().then(
        () => record(`${worker.name} restarted after ${name}: pid ${worker.pid}, serving ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`),
        // Its exit counts as unexpected: the run's watchdog starts it again.
        (err: unknown) => record(`${worker.name} restart after ${name} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`),
      ),
    );
  };

  try {
    for (const kill of schedule.kills) {
      // False: the run ended first (it asked fewer distinct requests than the undisturbed run).
      if (!(await gate.until(kill.atRequests))) return;
      try {
        await (kill.kind === 'server' ? serverKill(kill) : workerKill(kill));
        await sleep(SETTLE_MS);
      } finally {
        gate.release();
      }
    }
  } finally {
    await Promise.all(restarts.values());
  }
}
