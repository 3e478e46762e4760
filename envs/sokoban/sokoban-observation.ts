/**
 * The text the agent sees, and its inverse. Observations use '_' for floor so a trimmed or
 * re-wrapped message keeps its geometry; parseObservation reads the last grid in any text
 * (a whole user message with feedback and notes around it is fine).
 */
import { type SokobanBoard, type SokobanLevel, type SokobanState, boxesOnGoals, isGridLine, parseLevel, renderLevel, rowCol } from './sokoban-level';
import { sokobanText } from './sokoban-templates';

export function renderObservation(board: SokobanBoard, state: SokobanState): string {
  const level: SokobanLevel = { ...board, ...state };
  return sokobanText('observation', {
    grid: renderLevel(level, '_'),
    onGoals: boxesOnGoals(board, state),
    total: state.boxes.length,
  });
}

/** The level (board + current state) shown by the last grid block in `text`; throws if none. */
export function parseObservation(text: string): SokobanLevel {
  const lines = text.split(/\r?\n/);
  let end = -1;
  for (let i = lines.length - 1; i >= 0; i--) if (isGridLine(lines[i])) { end = i; break; }
  if (end < 0) throw new Error('sokoban observation: no grid found; expected rows of # @ + $ * . _ characters');
  let start = end;
  while (start > 0 && isGridLine(lines[start - 1])) start--;
  return parseLevel(lines.slice(start, end + 1), start + 1);
}

export function formatPosition(board: SokobanBoard, cell: number): string {
  const { row, col } = rowCol(board, cell);
  return sokobanText('position', { row, col });
}
