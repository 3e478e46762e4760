/**
 * Holds a run at a kill point: plugged into the simulator (`beforeAnswer`), it lets answers through
 * until the run has the kill point's count of distinct requests answered, then holds every answer
 * until the harness has done the kill and released it. The run cannot finish, or get past the
 * point, before the kill: every planned kill is carried out, on a fast machine as on a slow one,
 * and always with requests in flight.
 */
export class ProgressGate {
  private answered = 0;
  private point: { atRequests: number; reached: () => void; released: Promise<void>; release: () => void } | null = null;
  private closed = false;

  /** For the simulator's `beforeAnswer`. */
  readonly beforeAnswer = (answeredKeys: number): Promise<void> | undefined => {
    this.answered = answeredKeys;
    if (!this.point || answeredKeys < this.point.atRequests) return undefined;
    this.point.reached();
    return this.point.released;
  };

  /** True once the run is over. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Distinct requests answered so far (as of the last answer asked for). */
  get requests(): number {
    return this.answered;
  }

  /**
   * Resolves once `atRequests` distinct requests are answered and the next answer is asked for;
   * answers then wait until `release()`. Resolves false when the gate was closed first.
   */
  until(atRequests: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.point?.release();
    let reached!: () => void;
    let release!: () => void;
    const hit = new Promise<void>((r) => (reached = r));
    const released = new Promise<void>((r) => (release = r));
    this.point = { atRequests, reached, released, release };
    return Promise.race([hit.then(() => !this.closed), released.then(() => false)]);
  }

  /** Lets the held answers go. */
  release(): void {
    this.point?.release();
    this.point = null;
  }

  /** The run is over: nothing is held from now on, and a pending `until` resolves false. */
  close(): void {
    this.closed = true;
    this.release();
  }
}
