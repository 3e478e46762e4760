/**
 * Deadlock detection. Every check here is sound (it only fires when the level really can no
 * longer be solved), which is why the environment may end an episode on it. Boxes on goals
 * never trigger a check by themselves.
 */
import { type Direction, type SokobanBoard, type SokobanState, isWall, neighbor } from './sokoban-level';

export type DeadlockReason = 'corner' | 'wall' | 'block' | 'dead-square';

export interface Deadlock {
  box: number;
  reason: DeadlockReason;
}

const deadSquareCache = new WeakMap<SokobanBoard, boolean[]>();

/**
 * Squares from which a lone box can never reach a goal: the complement of the squares a box
 * can be pulled to from some goal (the player needs the square beyond to pull from).
 */
export function deadSquares(board: SokobanBoard): boolean[] {
  const cached = deadSquareCache.get(board);
  if (cached) return cached;
  const n = board.width * board.height;
  const live = new Array<boolean>(n).fill(false);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (board.goals[i] && !board.walls[i]) { live[i] = true; queue.push(i); }
  while (queue.length > 0) {
    const b = queue.pop() as number;
    for (const dir of ['up', 'down', 'left', 'right'] as const) {
      const to = neighbor(board, b, dir);
      const player = to < 0 ? -1 : neighbor(board, to, dir);
      if (!isWall(board, to) && !isWall(board, player) && !live[to]) {
        live[to] = true;
        queue.push(to);
      }
    }
  }
  const dead = live.map((l, i) => !l && !board.walls[i]);
  deadSquareCache.set(board, dead);
  return dead;
}

function isCorner(board: SokobanBoard, box: number): boolean {
  const u = isWall(board, neighbor(board, box, 'up'));
  const d = isWall(board, neighbor(board, box, 'down'));
  const l = isWall(board, neighbor(board, box, 'left'));
  const r = isWall(board, neighbor(board, box, 'right'));
  return (u || d) && (l || r);
}

/**
 * Dead wall: the box touches a wall on side `side`, and walking along that wall in both
 * directions meets an end wall before finding a goal or a gap in the wall.
 */
function isOnDeadWall(board: SokobanBoard, box: number): boolean {
  const sides: Array<[Direction, Direction[]]> = [
    ['up', ['left', 'right']],
    ['down', ['left', 'right']],
    ['left', ['up', 'down']],
    ['right', ['up', 'down']],
  ];
  for (const [side, along] of sides) {
    if (!isWall(board, neighbor(board, box, side))) continue;
    let escapes = false;
    for (const dir of along) {
      for (let c = box; !isWall(board, c); c = neighbor(board, c, dir)) {
        if (board.goals[c] || !isWall(board, neighbor(board, c, side))) { escapes = true; break; }
      }
      if (escapes) break;
    }
    if (!escapes) return true;
  }
  return false;
}

/** A 2x2 square made only of walls and boxes, containing this off-goal box: none can move. */
function isInFrozenBlock(board: SokobanBoard, state: SokobanState, box: number): boolean {
  const solid = (c: number) => isWall(board, c) || state.boxes.includes(c);
  const pairs: Array<[Direction, Direction]> = [['up', 'left'], ['up', 'right'], ['down', 'left'], ['down', 'right']];
  for (const [v, h] of pairs) {
    const a = neighbor(board, box, v);
    const b = neighbor(board, box, h);
    const diag = a < 0 ? -1 : neighbor(board, a, h);
    if (solid(a) && solid(b) && solid(diag)) return true;
  }
  return false;
}

/** Classifies one off-goal box; null when it is not (detectably) stuck. */
export function boxDeadlock(board: SokobanBoard, state: SokobanState, box: number): DeadlockReason | null {
  if (board.goals[box]) return null;
  if (isCorner(board, box)) return 'corner';
  if (isOnDeadWall(board, box)) return 'wall';
  if (isInFrozenBlock(board, state, box)) return 'block';
  if (deadSquares(board)[box]) return 'dead-square';
  return null;
}

/** The first deadlocked box, checking `first` (e.g. the box just pushed) before the others. */
export function findDeadlock(board: SokobanBoard, state: SokobanState, first?: number): Deadlock | null {
  const order = first !== undefined && state.boxes.includes(first) ? [first, ...state.boxes.filter((b) => b !== first)] : state.boxes;
  for (const box of order) {
    const reason = boxDeadlock(board, state, box);
    if (reason) return { box, reason };
  }
  return null;
}
