/**
 * The kill plan of a chaos run, paced by the study's own progress, not by wall time: progress is
 * the number of distinct LLM requests the simulator has answered (it lives in the harness, so the
 * kills cannot stop it, and a request asked again after a kill does not count twice). The
 * undisturbed run measures the total P; kill i of the disturbed run comes when p_i of them are
 * answered, p_i seeded and strictly increasing, all below P. A kill plan therefore fits any
 * machine speed: the run cannot get past p_i before kill i is done (./progress-gate).
 */
import { createRandom } from '../../core/random';

export interface ChaosPlan {
  /** Seed of the kill points and server downtimes. */
  seed: number;
  workerKills: number;
  serverKills: number;
  /**
   * The part of the run the kills fall in, as fractions of the undisturbed run's requests
   * (default [0.05, 0.9]: not before the workers are warm, and some work left after the last).
   */
  progressWindow?: [number, number];
  /**
   * Fewest requests answered from one kill point to the next (default 3): a killed worker has
   * restarted and made progress before the next kill.
   */
  minRequestsBetweenKills?: number;
  /** How long the server stays dead before it is restarted: uniform in [min, max] ms (seeded). */
  serverDowntimeMs: [number, number];
}

export const DEFAULT_PROGRESS_WINDOW: [number, number] = [0.05, 0.9];
export const DEFAULT_MIN_REQUESTS_BETWEEN_KILLS = 3;

export interface PlannedKill {
  /** 1-based, in the order they happen. */
  index: number;
  kind: 'worker' | 'server';
  /** 1-based among the kills of its kind (worker kill 3 of 5). */
  ofKind: number;
  /** The kill comes once this many distinct requests are answered. */
  atRequests: number;
  /** Server kills: how long the server stays down. */
  downtimeMs?: number;
}

export interface KillSchedule {
  plan: ChaosPlan;
  /** Distinct requests the undisturbed run had answered when it finished. */
  totalRequests: number;
  kills: PlannedKill[];
}

/** Thrown before the disturbed run starts when the plan cannot fit the study. */
export class KillPlanError extends Error {}

/** Checks the plan's own fields (before any run). */
export function validatePlan(plan: ChaosPlan): void {
  const bad = (field: string, value: unknown, expected: string) => new KillPlanError(`chaos plan: ${field} ${JSON.stringify(value)}: expected ${expected}`);
  for (const field of ['seed', 'workerKills', 'serverKills'] as const) {
    if (!Number.isInteger(plan[field]) || plan[field] < 0) throw bad(field, plan[field], 'an integer ≥ 0');
  }
  if (plan.workerKills + plan.serverKills === 0) throw bad('workerKills + serverKills', 0, 'at least one kill');
  const [from, to] = plan.progressWindow ?? DEFAULT_PROGRESS_WINDOW;
  if (!(from >= 0 && from < to && to < 1)) throw bad('progressWindow', plan.progressWindow, 'two fractions 0 ≤ from < to < 1, e.g. [0.05, 0.9]');
  const gap = plan.minRequestsBetweenKills ?? DEFAULT_MIN_REQUESTS_BETWEEN_KILLS;
  if (!Number.isInteger(gap) || gap < 1) throw bad('minRequestsBetweenKills', gap, 'an integer ≥ 1');
  const [minDown, maxDown] = plan.serverDowntimeMs;
  if (!(minDown >= 0 && minDown <= maxDown)) throw bad('serverDowntimeMs', plan.serverDowntimeMs, '[min, max] ms with 0 ≤ min ≤ max');
}

/**
 * Kinds in order: server kill j (of D) after ⌈(j+1)·W/(D+1)⌉ of the W worker kills, so workers die
 * before, between and after server kills (5 + 1: W W W S W W).
 */
function killKinds(workerKills: number, serverKills: number): Array<'worker' | 'server'> {
  const kinds: Array<'worker' | 'server'> = [];
  let servers = 0;
  const serverDue = () => servers < serverKills && kinds.length - servers >= Math.ceil(((servers + 1) * workerKills) / (serverKills + 1));
  const server = () => {
    kinds.push('server');
    servers++;
  };
  for (let w = 0; w < workerKills; w++) {
    kinds.push('worker');
    while (serverDue()) server();
  }
  while (servers < serverKills) server();
  return kinds;
}

/**
 * Places the kills of `plan` in a run that answers `totalRequests` distinct requests. The window
 * is cut into one equal segment per kill and each kill drawn (seeded) inside its segment, at least
 * `minRequestsBetweenKills` before the next segment starts: kills spread over the whole run
 * (evaluate, explore, evaluate of the trained model) and never bunch up.
 */
export function planKills(plan: ChaosPlan, totalRequests: number): KillSchedule {
  validatePlan(plan);
  const [from, to] = plan.progressWindow ?? DEFAULT_PROGRESS_WINDOW;
  const gap = plan.minRequestsBetweenKills ?? DEFAULT_MIN_REQUESTS_BETWEEN_KILLS;
  const kinds = killKinds(plan.workerKills, plan.serverKills);
  // Kill points are request counts 1..P-1: at P the run has nothing left to ask.
  const lo = Math.max(1, Math.ceil(from * totalRequests));
  const hi = Math.min(totalRequests - 1, Math.floor(to * totalRequests));
  const room = hi - lo + 1;
  if (room < kinds.length * gap) {
    throw new KillPlanError(
      `chaos plan does not fit the study: ${kinds.length} kills (${plan.workerKills} worker + ${plan.serverKills} server) at least ${gap} requests apart need ${kinds.length * gap} request counts, but the undisturbed run answered ${totalRequests} distinct requests and the window ${pct(from)}–${pct(to)} of them holds ${Math.max(0, room)} (${lo}..${hi}). Ask for fewer kills (--worker-kills, --server-kills), a smaller --kill-gap or a wider --kill-window, or make the study bigger (more tasks, samples or iterations).`,
    );
  }
  const rand = createRandom(plan.seed);
  const segment = room / kinds.length;
  const count = { worker: 0, server: 0 };
  const kills = kinds.map((kind, i): PlannedKill => {
    // p_i < start(i+1) − gap and p_(i+1) ≥ ⌊start(i+1)⌋ (integers): the points are ≥ gap apart.
    const atRequests = Math.floor(lo + i * segment + rand() * (segment - gap));
    const kill: PlannedKill = { index: i + 1, kind, ofKind: ++count[kind], atRequests };
    if (kind === 'server') kill.downtimeMs = Math.round(plan.serverDowntimeMs[0] + (plan.serverDowntimeMs[1] - plan.serverDowntimeMs[0]) * rand());
    return kill;
  });
  return { plan, totalRequests, kills };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** `kill 3/6 (worker 3/5)`: how log lines name a kill. */
export function killName(schedule: KillSchedule, kill: PlannedKill): string {
  const ofKind = kill.kind === 'worker' ? schedule.plan.workerKills : schedule.plan.serverKills;
  return `kill ${kill.index}/${schedule.kills.length} (${kill.kind} ${kill.ofKind}/${ofKind})`;
}

/** One line for the log: the seed, the total and every kill point. */
export function describeSchedule(schedule: KillSchedule): string {
  const { plan } = schedule;
  const [from, to] = plan.progressWindow ?? DEFAULT_PROGRESS_WINDOW;
  const gap = plan.minRequestsBetweenKills ?? DEFAULT_MIN_REQUESTS_BETWEEN_KILLS;
  const points = schedule.kills.map((k) => `${k.kind}@${k.atRequests}${k.downtimeMs !== undefined ? ` (${k.downtimeMs} ms down)` : ''}`).join(', ');
  return `kill plan (seed ${plan.seed}; kill points in distinct LLM requests answered, of ${schedule.totalRequests} in the undisturbed run; window ${pct(from)}–${pct(to)}, ≥${gap} apart): ${points}`;
}
