import { type Direction, type SokobanBoard, type SokobanState, isWall, neighbor } from './sokoban-level';

/** What one move did. Blocked moves leave the state unchanged. */
export type MoveOutcome =
  | { kind: 'moved'; state: SokobanState }
  | { kind: 'pushed'; state: SokobanState; from: number; to: number }
  | { kind: 'blocked-wall' }
  | { kind: 'blocked-box'; box: number; obstacle: 'wall' | 'box' };

/** The game's one rule: walk, or push a single box into a free square. Pure. */
export function applyMove(board: SokobanBoard, state: SokobanState, dir: Direction): MoveOutcome {
  const next = neighbor(board, state.player, dir);
  if (isWall(board, next)) return { kind: 'blocked-wall' };
  if (!state.boxes.includes(next)) return { kind: 'moved', state: { player: next, boxes: state.boxes } };
  const behind = neighbor(board, next, dir);
  if (isWall(board, behind)) return { kind: 'blocked-box', box: next, obstacle: 'wall' };
  if (state.boxes.includes(behind)) return { kind: 'blocked-box', box: next, obstacle: 'box' };
  const boxes = state.boxes.map((b) => (b === next ? behind : b)).sort((a, b) => a - b);
  return { kind: 'pushed', state: { player: next, boxes }, from: next, to: behind };
}

/** Moves that change the state (walks and pushes), in DIRECTIONS order. */
export function legalMoves(board: SokobanBoard, state: SokobanState): Array<{ dir: Direction; outcome: MoveOutcome & { state: SokobanState } }> {
  const out: Array<{ dir: Direction; outcome: MoveOutcome & { state: SokobanState } }> = [];
  for (const dir of ['up', 'down', 'left', 'right'] as const) {
    const outcome = applyMove(board, state, dir);
    if (outcome.kind === 'moved' || outcome.kind === 'pushed') out.push({ dir, outcome });
  }
  return out;
}
