/** What the simulator counts, for tests and benchmarks. */
export interface SimStatsSnapshot {
  /** Chat-completion requests received (every attempt, faulted or not). */
  totalRequests: number;
  /** Attempts per request key (a key identifies model, messages, seed and reflection flag). */
  perKey: Record<string, number>;
  /** 200 responses per request key. */
  completedPerKey: Record<string, number>;
  /** Request keys answered with 200 more than once: a durable client should keep this at 0. */
  repeatedCompleted: number;
  /** Chat-completion responses by HTTP status ('499' = client went away before an answer). */
  statusCounts: Record<string, number>;
  /** ∫ busy slots dt / (capacity × elapsed since reset); null without a capacity. */
  busyFraction: number | null;
  /** Most requests processed at the same time since reset. */
  maxConcurrent: number;
  /** Requests waiting for a slot right now. */
  queued: number;
  elapsedMs: number;
}

/** Counters plus a busy-time integral; the server calls it at every slot change. */
export class SimStats {
  private totalRequests = 0;
  private perKey = new Map<string, number>();
  private completedPerKey = new Map<string, number>();
  private statusCounts = new Map<string, number>();
  private busy = 0;
  private busyIntegralMs = 0;
  private lastChange = performance.now();
  private resetAt = performance.now();
  private maxConcurrent = 0;
  private queued = 0;

  constructor(private readonly capacity: number | undefined) {}

  /** Registers an attempt and returns its occurrence number for that key (0 for the first). */
  attempt(key: string): number {
    this.totalRequests++;
    const n = this.perKey.get(key) ?? 0;
    this.perKey.set(key, n + 1);
    return n;
  }

  /** A request refused before it had a key (bad body, unknown model, no policy). */
  rejected(code: number): void {
    this.totalRequests++;
    this.status(code);
  }

  status(code: number, key?: string): void {
    const s = String(code);
    this.statusCounts.set(s, (this.statusCounts.get(s) ?? 0) + 1);
    if (code === 200 && key !== undefined) this.completedPerKey.set(key, (this.completedPerKey.get(key) ?? 0) + 1);
  }

  /** Distinct request keys answered 200 so far: how far a run has got, whatever was asked twice. */
  answeredKeys(): number {
    return this.completedPerKey.size;
  }

  setQueued(n: number): void {
    this.queued = n;
  }

  slotTaken(): void {
    this.advance();
    this.busy++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.busy);
  }

  slotReleased(): void {
    this.advance();
    this.busy--;
  }

  private advance(): void {
    const now = performance.now();
    this.busyIntegralMs += this.busy * (now - this.lastChange);
    this.lastChange = now;
  }

  /** Counters back to zero; requests in flight stay counted as busy from now on. */
  reset(): void {
    this.totalRequests = 0;
    this.perKey.clear();
    this.completedPerKey.clear();
    this.statusCounts.clear();
    this.busyIntegralMs = 0;
    this.lastChange = this.resetAt = performance.now();
    this.maxConcurrent = this.busy;
  }

  snapshot(): SimStatsSnapshot {
    this.advance();
    const elapsedMs = performance.now() - this.resetAt;
    let repeatedCompleted = 0;
    for (const n of this.completedPerKey.values()) if (n > 1) repeatedCompleted++;
    return {
      totalRequests: this.totalRequests,
      perKey: Object.fromEntries(this.perKey),
      completedPerKey: Object.fromEntries(this.completedPerKey),
      repeatedCompleted,
      statusCounts: Object.fromEntries(this.statusCounts),
      busyFraction:
        this.capacity && elapsedMs > 0 ? Math.min(1, this.busyIntegralMs / (this.capacity * elapsedMs)) : null,
      maxConcurrent: this.maxConcurrent,
      queued: this.queued,
      elapsedMs,
    };
  }
}
