/**
 * At most `limit` calls of `run` in flight in this process; the rest wait in FIFO order.
 * Bounds the load one worker puts on the inference server (and on the CPU, for env steps)
 * independently of how many activity slots the worker has.
 */
export class RequestLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`request limit: got ${limit}, expected an integer ≥ 1`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next caller, so `active` never dips below what is running.
      if (next) next();
      else this.active--;
    }
  }
}
