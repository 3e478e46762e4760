/**
 * The Sokoban level model and its XSB text form. Cells are row-major indices
 * (index = row * width + col); everything outside the grid counts as wall.
 * Pure: no I/O, safe for workflow bundles and the simulator.
 */
export type Direction = 'up' | 'down' | 'left' | 'right';
export const DIRECTIONS: readonly Direction[] = ['up', 'down', 'left', 'right'];

/** The fixed part of a level: walls and goals. */
export interface SokobanBoard {
  width: number;
  height: number;
  walls: boolean[];
  goals: boolean[];
}

/** The moving part: player cell and box cells (kept sorted so equal states compare equal). */
export interface SokobanState {
  player: number;
  boxes: number[];
}

export type SokobanLevel = SokobanBoard & SokobanState;

export const XSB_FLOOR_CHARS = [' ', '-', '_'] as const;
const XSB_CHARS = new Set(['#', '@', '+', '$', '*', '.', ...XSB_FLOOR_CHARS]);

/** A line that belongs to a grid: only XSB characters and at least one wall. */
export function isGridLine(line: string): boolean {
  if (!line.includes('#')) return false;
  for (const c of line) if (!XSB_CHARS.has(c)) return false;
  return true;
}

export class SokobanParseError extends Error {}

/**
 * Parses one level from its grid rows. `firstLine` (1-based) is only used in error messages,
 * so file loaders can point at the right line.
 */
export function parseLevel(text: string | string[], firstLine = 1): SokobanLevel {
  const rows = (typeof text === 'string' ? text.split(/\r?\n/) : text).map((r) => r.replace(/\r$/, ''));
  while (rows.length > 0 && rows[rows.length - 1].trim() === '') rows.pop();
  while (rows.length > 0 && rows[0].trim() === '') {
    rows.shift();
    firstLine++;
  }
  if (rows.length === 0) throw new SokobanParseError(`level at line ${firstLine}: no grid rows; expected XSB rows such as "#@$.#"`);
  const height = rows.length;
  const width = Math.max(...rows.map((r) => r.length));
  const walls = new Array<boolean>(width * height).fill(false);
  const goals = new Array<boolean>(width * height).fill(false);
  const boxes: number[] = [];
  const players: number[] = [];
  rows.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      const ch = row[c];
      const i = r * width + c;
      switch (ch) {
        case '#': walls[i] = true; break;
        case '@': players.push(i); break;
        case '+': players.push(i); goals[i] = true; break;
        case '$': boxes.push(i); break;
        case '*': boxes.push(i); goals[i] = true; break;
        case '.': goals[i] = true; break;
        case ' ': case '-': case '_': break;
        default:
          throw new SokobanParseError(
            `line ${firstLine + r}, column ${c + 1}: unexpected character ${JSON.stringify(ch)}; expected one of # @ + $ * . space - _`,
          );
      }
    }
  });
  const where = `level at line ${firstLine}`;
  if (players.length !== 1) {
    throw new SokobanParseError(`${where}: found ${players.length} players; expected exactly one '@' or '+'`);
  }
  const goalCount = goals.filter(Boolean).length;
  if (boxes.length === 0) throw new SokobanParseError(`${where}: no boxes; expected at least one '$' or '*'`);
  if (boxes.length !== goalCount) {
    throw new SokobanParseError(`${where}: ${boxes.length} boxes but ${goalCount} goals; expected as many goals as boxes`);
  }
  return { width, height, walls, goals, boxes: boxes.sort((a, b) => a - b), player: players[0] };
}

/**
 * Renders XSB rows. `floor` picks the floor character: ' ' (standard XSB, trailing floor is
 * trimmed) or '_' (used in observations, so nothing is lost when a text is trimmed).
 */
export function renderLevel(level: SokobanLevel, floor: ' ' | '_' | '-' = ' '): string {
  const boxes = new Set(level.boxes);
  const lines: string[] = [];
  for (let r = 0; r < level.height; r++) {
    let line = '';
    for (let c = 0; c < level.width; c++) {
      const i = r * level.width + c;
      const goal = level.goals[i];
      if (level.walls[i]) line += '#';
      else if (i === level.player) line += goal ? '+' : '@';
      else if (boxes.has(i)) line += goal ? '*' : '$';
      else line += goal ? '.' : floor;
    }
    lines.push(floor === ' ' ? line.replace(/ +$/, '') : line);
  }
  return lines.join('\n');
}

/** Cell one step in a direction, or -1 when that leaves the grid. */
export function neighbor(board: SokobanBoard, cell: number, dir: Direction): number {
  const r = Math.floor(cell / board.width);
  const c = cell % board.width;
  switch (dir) {
    case 'up': return r > 0 ? cell - board.width : -1;
    case 'down': return r < board.height - 1 ? cell + board.width : -1;
    case 'left': return c > 0 ? cell - 1 : -1;
    case 'right': return c < board.width - 1 ? cell + 1 : -1;
  }
}

export function isWall(board: SokobanBoard, cell: number): boolean {
  return cell < 0 || board.walls[cell];
}

export function rowCol(board: SokobanBoard, cell: number): { row: number; col: number } {
  return { row: Math.floor(cell / board.width), col: cell % board.width };
}

export function isSolved(board: SokobanBoard, state: SokobanState): boolean {
  return state.boxes.every((b) => board.goals[b]);
}

export function boxesOnGoals(board: SokobanBoard, state: SokobanState): number {
  return state.boxes.filter((b) => board.goals[b]).length;
}
