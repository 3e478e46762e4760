/**
 * The lock-step schedule (the synchronous rollout loop of common agent-RL frameworks): a batch
 * of episodes advances in rounds, and each round has four phases with a barrier after each:
 * every episode without a branch opens its next one, every open branch acts, steps, and those
 * due reflect. It runs the SAME episode and branch loops as the workflows, with the
 * 'activity-per-call' strategy (its phases are separate calls by definition) over a port whose
 * calls wait for their phase. The decisions are those of the asynchronous schedule, so the trees
 * (and the inference requests) are identical; only the timing differs.
 */
import type { EpisodeTree } from '../core/tree';
import { exploreBranch, type BranchPort } from '../workflows/branch-loop';
import { exploreEpisode } from '../workflows/episode-loop';
import type { EpisodeInput } from '../contract/episode-types';
import { directPort, type InProcessActivities } from './inprocess-leafe';

const PHASES = ['open', 'act', 'step', 'reflect'] as const;
type Phase = (typeof PHASES)[number];

interface Waiting {
  phase: Phase;
  /** Makes the call; its result is handed over only once the whole phase is done. */
  call(): Promise<() => void>;
}

/**
 * Holds every participant's port call until its phase comes round, then makes all calls of the
 * phase at once and waits for all of them (the barrier). A phase starts only when every
 * participant still running is waiting for a call or has left, so a participant that is done
 * with a phase before the others (a branch that ends, closes and asks to open the next one)
 * waits for the next round.
 */
class PhaseBarrier {
  private waiting: Waiting[] = [];
  private idle: (() => void) | null = null;

  /** @param running participants not waiting for a call (all of them at first). */
  constructor(private running: number) {}

  /** A participant's call in `phase`. */
  at<T>(phase: Phase, call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        phase,
        call: () =>
          call().then(
            (value) => () => resolve(value),
            (err: unknown) => () => reject(err),
          ),
      });
      this.stopped();
    });
  }

  /** A participant is done: the phases no longer wait for it. */
  leave(): void {
    this.stopped();
  }

  /** Runs rounds until every participant has left. */
  async run(): Promise<void> {
    for (;;) {
      for (const phase of PHASES) {
        await this.allWaiting();
        if (this.waiting.length === 0) return;
        const due = this.waiting.filter((w) => w.phase === phase);
        this.waiting = this.waiting.filter((w) => w.phase !== phase);
        const handOvers = await Promise.all(due.map((w) => w.call()));
        this.running += due.length;
        for (const handOver of handOvers) handOver();
      }
    }
  }

  private stopped(): void {
    this.running--;
    if (this.running === 0 && this.idle) {
      const idle = this.idle;
      this.idle = null;
      idle();
    }
  }

  private allWaiting(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => (this.idle = resolve));
  }
}

/** A branch's port whose calls wait for their phase (closing does not: it ends the branch's round). */
function lockstepPort(direct: BranchPort, barrier: PhaseBarrier): BranchPort {
  const { session, llm } = direct;
  const separatePhases = (): never => {
    throw new Error('lock-step takes act, step and reflect as separate phases (strategy activity-per-call)');
  };
  return {
    workflowId: direct.workflowId,
    session: {
      get reopens() {
        return session.reopens;
      },
      open: (prefix) => barrier.at('open', () => session.open(prefix)),
      openAndTakeStep: separatePhases,
      takeStep: separatePhases,
      step: (action) => barrier.at('step', () => session.step(action)),
      close: () => session.close(),
    },
    llm: {
      act: (input) => barrier.at('act', () => llm.act(input)),
      reflect: (input) => barrier.at('reflect', () => llm.reflect(input)),
    },
  };
}

/** Lock-step: all episodes of the batch advance together, round by round. */
export async function runLockstep(acts: InProcessActivities, episodes: Array<{ episodeId: string; input: EpisodeInput }>): Promise<EpisodeTree[]> {
  const barrier = new PhaseBarrier(episodes.length);
  const trees = episodes.map(async ({ episodeId, input }) => {
    try {
      return await exploreEpisode(input, episodeId, (branch) => exploreBranch(branch, 'activity-per-call', lockstepPort(directPort(acts, branch, null), barrier)));
    } finally {
      barrier.leave();
    }
  });
  const [, done] = await Promise.all([barrier.run(), Promise.all(trees)]);
  return done;
}
