import type { Client } from '@temporalio/client';
import { msToNumber, optionalTsToMs } from '@temporalio/common/lib/time';

/** Activities that ask the model: one per step (takeStep) or one per request (act, reflect). */
const INFERENCE_ACTIVITIES = new Set(['takeStep', 'act', 'reflect']);

export const DEFAULT_STALLED_AFTER_MS = 10 * 60_000;
export const STALLED_AFTER_ENV = 'LEAFE_STALLED_AFTER';
/** At most this many workflow describes per look: status stays cheap on a big experiment. */
const MAX_DESCRIBES = 48;
/** ...and this many history reads, for when the longest-failing activities were first scheduled. */
const MAX_HISTORY_READS = 6;

export interface PendingInferenceFailure {
  workflowId: string;
  activityType: string;
  /** The attempt now scheduled or running: attempt − 1 attempts have failed in a row. */
  attempt: number;
  message: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  /** When the activity was first scheduled (it has not succeeded since); null when not looked up. */
  failingSince: string | null;
  activityId: string;
}

export interface InferenceHealth {
  /** Running workflows looked at (bounded), and whether more were left out. */
  workflowsChecked: number;
  truncated: boolean;
  /** Pending model-asking activities found, and how many of them have failed at least once. */
  pending: number;
  failing: number;
  /** The most recent failure. */
  last: PendingInferenceFailure | null;
  /** Every pending one is failing and the oldest has been for more than `stalledAfterMs`. */
  stalled: boolean;
  failingForMs: number | null;
  stalledAfterMs: number;
}

/** "10m", "90s", "1500" (ms): the threshold after which a run whose requests all fail is stalled. */
export function parseStalledAfter(value: string | undefined, field: string): number {
  if (value === undefined || value === '') return DEFAULT_STALLED_AFTER_MS;
  let ms: number;
  try {
    ms = /^\d+$/.test(value) ? Number(value) : msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`${field}: got ${JSON.stringify(value)}; expected a duration such as 10m, 90s or 1500 (milliseconds)`);
  return ms;
}

/** The threshold from a flag, else LEAFE_STALLED_AFTER, else 10 minutes. */
export function stalledAfterFrom(flag: string | undefined): number {
  if (flag !== undefined) return parseStalledAfter(flag, '--stalled-after');
  return parseStalledAfter(process.env[STALLED_AFTER_ENV], STALLED_AFTER_ENV);
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * Looks for inference requests that keep failing under `rootIds`: the running workflows and
 * their running children, breadth first (experiment → episodes → branches), at most 48
 * describes. Retries go on (that is the point of durability); this makes them visible.
 */
export async function inferenceHealth(client: Client, rootIds: string[], stalledAfterMs: number, now = Date.now()): Promise<InferenceHealth> {
  const failures: PendingInferenceFailure[] = [];
  let pending = 0;
  let checked = 0;
  let level = [...rootIds];
  const seen = new Set<string>();
  while (level.length && checked < MAX_DESCRIBES) {
    const batch = level.filter((id) => !seen.has(id)).slice(0, MAX_DESCRIBES - checked);
    level = level.slice(batch.length);
    batch.forEach((id) => seen.add(id));
    checked += batch.length;
    const described = await Promise.all(batch.map((id) => client.workflow.getHandle(id).describe().catch(() => null)));
    const next: string[] = [];
    for (const d of described) {
      if (!d || d.status.name !== 'RUNNING') continue;
      for (const child of d.raw.pendingChildren ?? []) if (child.workflowId) next.push(child.workflowId);
      for (const a of d.raw.pendingActivities ?? []) {
        const type = a.activityType?.name ?? '';
        if (!INFERENCE_ACTIVITIES.has(type)) continue;
        pending++;
        if (!a.lastFailure) continue;
        failures.push({
          workflowId: d.workflowId,
          activityType: type,
          attempt: a.attempt ?? 1,
          message: a.lastFailure.message ?? '(no message)',
          lastAttemptAt: iso(optionalTsToMs(a.lastAttemptCompleteTime)),
          nextAttemptAt: iso(optionalTsToMs(a.nextAttemptScheduleTime)),
          failingSince: null,
          activityId: a.activityId ?? '',
        });
      }
    }
    level = [...level, ...next];
  }
  await lookUpFailingSince(client, failures);
  const last = failures.reduce<PendingInferenceFailure | null>((best, f) => (!best || (f.lastAttemptAt ?? '') > (best.lastAttemptAt ?? '') ? f : best), null);
  const since = failures.filter((f) => f.failingSince).map((f) => Date.parse(f.failingSince!));
  const oldest = since.length ? Math.min(...since) : null;
  const failingForMs = oldest === null ? null : Math.max(0, now - oldest);
  return {
    workflowsChecked: checked,
    truncated: level.length > 0,
    pending,
    failing: failures.length,
    last,
    stalled: failures.length > 0 && failures.length === pending && failingForMs !== null && failingForMs > stalledAfterMs,
    failingForMs,
    stalledAfterMs,
  };
}

/**
 * The pending activity's own scheduledTime moves to each retry's, so when it was first
 * scheduled comes from its ActivityTaskScheduled event; read for the most-retried few only.
 */
async function lookUpFailingSince(client: Client, failures: PendingInferenceFailure[]): Promise<void> {
  const mostRetried = [...failures].sort((a, b) => b.attempt - a.attempt).slice(0, MAX_HISTORY_READS);
  const byWorkflow = new Map<string, PendingInferenceFailure[]>();
  for (const f of mostRetried) byWorkflow.set(f.workflowId, [...(byWorkflow.get(f.workflowId) ?? []), f]);
  await Promise.all(
    [...byWorkflow].map(async ([workflowId, fs]) => {
      const history = await client.workflow.getHandle(workflowId).fetchHistory().catch(() => null);
      for (const e of history?.events ?? []) {
        const scheduled = e.activityTaskScheduledEventAttributes;
        const f = scheduled && fs.find((x) => x.activityId === scheduled.activityId);
        if (f) f.failingSince = iso(optionalTsToMs(e.eventTime));
      }
    }),
  );
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 120 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

/** What the CLI and `leafe status` print; null when no request is failing. */
export function renderInferenceHealth(h: InferenceHealth, now = Date.now()): string | null {
  if (!h.last) return null;
  const f = h.last;
  const next = f.nextAttemptAt ? `next attempt at ${f.nextAttemptAt} (in ${seconds(Math.max(0, Date.parse(f.nextAttemptAt) - now))})` : 'attempt in progress';
  const lines = [
    `${h.stalled ? 'STALLED: ' : ''}inference failing: ${h.failing} of ${h.pending} pending request activit${h.pending === 1 ? 'y' : 'ies'} retrying; last failure (${f.activityType} in ${f.workflowId}, ${f.attempt - 1} failed attempt${f.attempt === 2 ? '' : 's'} in a row): ${f.message}`,
    `  ${next}; failing for ${seconds(h.failingForMs ?? 0)}${h.stalled ? ` (more than ${seconds(h.stalledAfterMs)}: stalled)` : ` (stalled after ${seconds(h.stalledAfterMs)})`}${h.truncated ? `; looked at ${h.workflowsChecked} running workflows only` : ''}`,
  ];
  return lines.join('\n');
}

/**
 * While the CLI waits for workflows: every `intervalMs`, print the inference health when it
 * changed (a new failure message, another attempt, stalled, or recovered).
 */
export function watchInferenceHealth(options: { client: Client; rootIds: () => string[]; stalledAfterMs: number; intervalMs?: number; log: (line: string) => void }): { stop(): Promise<void> } {
  let lastKey = '';
  let inflight: Promise<void> | null = null;
  const look = async () => {
    const h = await inferenceHealth(options.client, options.rootIds(), options.stalledAfterMs);
    const key = h.last ? `${h.last.message}\u0000${h.last.attempt}\u0000${h.stalled}` : '';
    if (key === lastKey) return;
    if (key) options.log(`leafe: ${renderInferenceHealth(h)}`);
    else if (lastKey) options.log('leafe: inference requests are succeeding again');
    lastKey = key;
  };
  const timer = setInterval(() => {
    inflight ??= look()
      .catch(() => undefined)
      .finally(() => {
        inflight = null;
      });
  }, options.intervalMs ?? 5000);
  return {
    async stop() {
      clearInterval(timer);
      await inflight;
    },
  };
}
