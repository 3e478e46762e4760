/**
 * One Sokoban episode. Deterministic: the state after an action prefix depends only on the
 * level and the prefix, so reset + replay rebuilds it exactly (DESIGN.md §2).
 *
 * Decisions:
 * - Reward (gym-sokoban's scheme scaled by 1/10): -0.01 per step, +0.1 for a box pushed
 *   onto a goal, -0.1 for one pushed off, +1 when the level is solved.
 * - A deadlock ends the episode (done=true, success=false) by default: the checks are sound,
 *   so the level is lost for sure and further moves only burn interaction budget; the
 *   feedback names the stuck box, which is what reflection needs. `endOnDeadlock: false`
 *   keeps the episode open instead.
 * - Steps after the end are no-ops with feedback saying so. The horizon is the episode's job.
 */
import type { Environment, StepResult } from '../../contract/environment-port';
import { type SokobanBoard, type SokobanLevel, type SokobanState, isSolved } from './sokoban-level';
import { applyMove } from './sokoban-rules';
import { type DeadlockReason, findDeadlock } from './sokoban-deadlock';
import { parseAction } from './sokoban-actions';
import { formatPosition, renderObservation } from './sokoban-observation';
import { type SokobanTextName, sokobanText } from './sokoban-templates';

export const REWARD = { step: -0.01, boxOnGoal: 0.1, boxOffGoal: -0.1, solved: 1 } as const;

export interface SokobanEnvironmentOptions {
  endOnDeadlock?: boolean;
}

export interface GameStep extends StepResult {
  state: SokobanState;
  /** The stuck box, when this step produced (or left) a deadlock. */
  deadlock: { box: number; reason: DeadlockReason } | null;
}

const DEADLOCK_TEXT: Record<DeadlockReason, SokobanTextName> = {
  corner: 'deadlockCorner',
  wall: 'deadlockWall',
  block: 'deadlockBlock',
  'dead-square': 'deadlockDeadSquare',
};

/** Pure transition with feedback; the environment and the simulator both use it. */
export function playStep(board: SokobanBoard, state: SokobanState, action: string, options: SokobanEnvironmentOptions = {}): GameStep {
  const endOnDeadlock = options.endOnDeadlock ?? true;
  const dir = parseAction(action);
  // `failed` (what triggers reflect-on-failure): a deadlock, a blocked move or an unreadable action.
  const result = (next: SokobanState, feedback: string, reward: number, deadlock: GameStep['deadlock'] = null, mistake = false): GameStep => {
    const success = isSolved(board, next);
    return {
      state: next,
      observation: renderObservation(board, next),
      feedback,
      reward: Math.round(reward * 1000) / 1000,
      done: success || (endOnDeadlock && deadlock !== null),
      success,
      failed: !success && (deadlock !== null || mistake),
      deadlock,
    };
  };
  if (!dir) {
    const reply = action.trim().replace(/\s+/g, ' ');
    return result(state, sokobanText('unparseable', { reply: reply.length > 60 ? `${reply.slice(0, 57)}...` : reply }), REWARD.step, null, true);
  }
  const outcome = applyMove(board, state, dir);
  switch (outcome.kind) {
    case 'blocked-wall':
      return result(state, sokobanText('blockedByWall', { dir }), REWARD.step, null, true);
    case 'blocked-box':
      return result(
        state,
        sokobanText('blockedByBox', {
          dir,
          box: formatPosition(board, outcome.box),
          obstacle: sokobanText(outcome.obstacle === 'wall' ? 'obstacleWall' : 'obstacleBox'),
        }),
        REWARD.step,
        null,
        true,
      );
    case 'moved':
      return result(outcome.state, sokobanText('moved', { dir, pos: formatPosition(board, outcome.state.player) }), REWARD.step);
    case 'pushed': {
      let feedback = sokobanText('pushed', { dir, from: formatPosition(board, outcome.from), to: formatPosition(board, outcome.to) });
      let reward = REWARD.step;
      const wasOn = board.goals[outcome.from];
      const isOn = board.goals[outcome.to];
      if (isOn && !wasOn) { feedback += sokobanText('boxOnGoal'); reward += REWARD.boxOnGoal; }
      if (wasOn && !isOn) { feedback += sokobanText('boxOffGoal'); reward += REWARD.boxOffGoal; }
      const deadlock = findDeadlock(board, outcome.state, outcome.to);
      if (deadlock) feedback += sokobanText(DEADLOCK_TEXT[deadlock.reason], { box: formatPosition(board, deadlock.box) });
      if (isSolved(board, outcome.state)) { feedback += sokobanText('solved'); reward += REWARD.solved; }
      return result(outcome.state, feedback, reward, deadlock);
    }
  }
}

export class SokobanEnvironment implements Environment {
  private state: SokobanState;
  private over = false;

  constructor(
    readonly level: SokobanLevel,
    private readonly options: SokobanEnvironmentOptions = {},
  ) {
    this.state = { player: level.player, boxes: [...level.boxes] };
  }

  /** The current state (a copy), for tests and replay checks. */
  get current(): SokobanState {
    return { player: this.state.player, boxes: [...this.state.boxes] };
  }

  async reset(): Promise<string> {
    this.state = { player: this.level.player, boxes: [...this.level.boxes] };
    this.over = false;
    return renderObservation(this.level, this.state);
  }

  async step(action: string): Promise<StepResult> {
    if (this.over) {
      return { observation: renderObservation(this.level, this.state), feedback: sokobanText('episodeOver'), reward: 0, done: true, success: isSolved(this.level, this.state), failed: false };
    }
    const step = playStep(this.level, this.state, action, this.options);
    this.state = step.state;
    this.over = step.done;
    return { observation: step.observation, feedback: step.feedback, reward: step.reward, done: step.done, success: step.success, failed: step.failed };
  }

  async close(): Promise<void> {}
}
