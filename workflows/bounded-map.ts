import { condition } from '@temporalio/workflow';

/**
 * Runs `fn` over items with at most `limit()` in flight (read on every start, so a signal can
 * change it live) and waits while `paused()`; results keep the input order. Deterministic:
 * completions arrive in history order on replay.
 *
 * Not p-limit (used by the activities, CLI and bench): it is sandbox-safe (no timers or
 * async_hooks), but it has no pause, takes a new limit only through a setter, and keeps
 * starting queued items after a failure or a cancellation; waiting on `condition` gives all
 * three, and keeps the command order the recorded histories replay.
 */
export async function boundedMap<T, R>(items: T[], limit: () => number, fn: (item: T, index: number) => Promise<R>, paused: () => boolean = () => false): Promise<R[]> {
  const results = new Array<R>(items.length);
  let inFlight = 0;
  let next = 0;
  let failure: unknown = null;
  const running: Promise<void>[] = [];
  while (next < items.length) {
    try {
      await condition(() => failure !== null || (!paused() && inFlight < Math.max(1, limit())));
    } catch (err) {
      // Cancelled while waiting for a slot: stop starting, but let running children finish
      // cancelling (otherwise the parent closes and they are terminated without cleanup).
      failure ??= err;
    }
    if (failure !== null) break;
    const i = next++;
    inFlight++;
    running.push(
      fn(items[i], i).then(
        (r) => {
          results[i] = r;
          inFlight--;
        },
        (err: unknown) => {
          failure ??= err;
          inFlight--;
        },
      ),
    );
  }
  await Promise.all(running);
  if (failure !== null) throw failure;
  return results;
}
