/**
 * The first SIGINT or SIGTERM stops a command for good: its own cleanup (cancel what it started,
 * or say how to resume it), then what it runs in-process (workers, simulator, dev server, vLLM),
 * then exit 130/143. Without this the Temporal runtime stopped the in-process workers and the
 * command went on waiting for workflows nobody would run. A second signal exits at once.
 */
const CLEANUP_LIMIT_MS = 30_000;

export interface Interrupt {
  /** Set at the first signal: the command's own flow must start nothing new and not exit by itself. */
  readonly stopping: boolean;
  dispose(): void;
}

/** Awaited by a command's flow once it is stopping: the interrupt handler ends the process. */
export function untilExit(): Promise<never> {
  return new Promise<never>(() => undefined);
}

export function exitOnInterrupt(cleanup: (signal: NodeJS.Signals) => Promise<void>): Interrupt {
  const state = { stopping: false };
  const handler = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (state.stopping) process.exit(code);
    state.stopping = true;
    process.stderr.write(`\nleafe: ${signal}: stopping (again to exit at once)\n`);
    // Calls still retrying when the cleanup closes the connection throw from a timer: expected now.
    process.on('uncaughtException', (err) => {
      if (err.message !== 'Channel has been shut down') {
        process.stderr.write(`leafe: while stopping: ${err.message}\n`);
        process.exit(code);
      }
    });
    const limit = new Promise<void>((resolve) => setTimeout(resolve, CLEANUP_LIMIT_MS).unref());
    void Promise.race([cleanup(signal).catch((err: unknown) => process.stderr.write(`leafe: while stopping: ${err instanceof Error ? err.message : String(err)}\n`)), limit]).finally(() => process.exit(code));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get stopping() {
      return state.stopping;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
