/**
 * Deterministic level generator in the manner of gym-sokoban (mpSchrader/gym-sokoban,
 * room_utils.py): (1) a random walk stamps small masks into a walled room to carve its
 * topology, (2) goals and the player are placed on random floor, boxes start on the goals,
 * (3) reverse play pulls boxes away from the solved state, keeping the state with the best
 * score (box swaps x total box displacement). Reverse play makes every level solvable by
 * construction; we still verify with the solver and retry with a derived seed.
 * All randomness comes from core/random seeded by the options: same seed, same level.
 */
import { createRandom, deriveSeed, randomInt } from '../../core/random';
import { type Direction, type SokobanLevel, isSolved, neighbor } from './sokoban-level';
import { findDeadlock } from './sokoban-deadlock';
import { solve } from './sokoban-solver';

export interface GeneratorOptions {
  /** Room width including the outer walls. */
  width: number;
  height: number;
  boxes: number;
  seed: number;
  /** Bounded retries with derived seeds before giving up. */
  maxAttempts?: number;
}

export const DEFAULT_GENERATOR = { width: 7, height: 7, boxes: 2 } as const;

const DIRS: readonly Direction[] = ['up', 'down', 'left', 'right'];

// 3x3 stamps, as in gym-sokoban's topology masks.
const MASKS: number[][][] = [
  [[0, 0, 0], [1, 1, 1], [0, 0, 0]],
  [[0, 1, 0], [0, 1, 0], [0, 1, 0]],
  [[0, 0, 0], [1, 1, 0], [0, 1, 0]],
  [[0, 0, 0], [1, 1, 0], [1, 1, 0]],
  [[0, 0, 0], [0, 1, 1], [0, 1, 0]],
  [[0, 1, 0], [1, 1, 1], [0, 1, 0]],
];

export function validateGeneratorOptions(o: GeneratorOptions): void {
  const int = (field: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`sokoban generator: ${field} = ${JSON.stringify(v)}; expected an integer from ${min} to ${max}`);
    }
  };
  int('width', o.width, 5, 30);
  int('height', o.height, 5, 30);
  const interior = (o.width - 2) * (o.height - 2);
  int('boxes', o.boxes, 1, Math.max(1, Math.floor(interior / 4)));
  if (!Number.isInteger(o.seed)) throw new Error(`sokoban generator: seed = ${JSON.stringify(o.seed)}; expected an integer`);
}

/** Generates a solvable level needing at least boxes+2 moves; throws after maxAttempts failures. */
export function generateLevel(options: GeneratorOptions): SokobanLevel {
  validateGeneratorOptions(options);
  const attempts = options.maxAttempts ?? 50;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const seed = attempt === 0 ? options.seed >>> 0 : deriveSeed('sokoban-generator', options.seed, attempt);
    const level = tryGenerate(options, createRandom(seed));
    // Reject levels solved in a couple of moves: they teach nothing about planning.
    const solution = level ? solve(level, level, { maxStates: 200_000 }) : null;
    if (level && solution && solution.length >= options.boxes + 2) return level;
  }
  throw new Error(
    `sokoban generator: no solvable ${options.width}x${options.height} level with ${options.boxes} boxes after ${attempts} attempts (seed ${options.seed}); expected fewer boxes or a larger room`,
  );
}

function tryGenerate(o: GeneratorOptions, rand: () => number): SokobanLevel | null {
  const { width, height } = o;
  const walls = new Array<boolean>(width * height).fill(true);
  const goals = new Array<boolean>(width * height).fill(false);
  const interior = (r: number, c: number) => r >= 1 && r <= height - 2 && c >= 1 && c <= width - 2;

  // 1. Topology: random walk stamping masks (gym-sokoban: num_steps ~ 1.7 * (w + h), p_change 0.35).
  const steps = Math.round(1.7 * (width + height));
  let r = 1 + randomInt(rand, height - 2);
  let c = 1 + randomInt(rand, width - 2);
  let dir = randomInt(rand, 4);
  for (let s = 0; s < steps; s++) {
    if (rand() < 0.35) dir = randomInt(rand, 4);
    const nr = r + (dir === 0 ? -1 : dir === 1 ? 1 : 0);
    const nc = c + (dir === 2 ? -1 : dir === 3 ? 1 : 0);
    if (interior(nr, nc)) { r = nr; c = nc; }
    const mask = MASKS[randomInt(rand, MASKS.length)];
    for (let dr = -1; dr <= 1; dr++) {
      for (let dc = -1; dc <= 1; dc++) {
        if (mask[dr + 1][dc + 1] && interior(r + dr, c + dc)) walls[(r + dr) * width + c + dc] = false;
      }
    }
  }
  const floor: number[] = [];
  for (let i = 0; i < walls.length; i++) if (!walls[i]) floor.push(i);
  if (floor.length < o.boxes * 2 + 2) return null;

  // 2. Goals (boxes start on them) and the player, on distinct random floor cells.
  const pool = [...floor];
  const take = () => pool.splice(randomInt(rand, pool.length), 1)[0];
  const goalCells: number[] = [];
  for (let b = 0; b < o.boxes; b++) { const g = take(); goals[g] = true; goalCells.push(g); }
  const board = { width, height, walls, goals };

  // 3. Reverse play: random walks that pull boxes; keep the best-scoring unsolved state.
  let best: { player: number; boxes: number[]; score: number } | null = null;
  const walkLength = 5 * (width + height);
  const startPlayer = take();
  for (let walk = 0; walk < 40; walk++) {
    let player = startPlayer;
    const boxes = [...goalCells]; // boxes[k] started on goalCells[k]
    let lastPulled = -1;
    let swaps = 0;
    for (let s = 0; s < walkLength; s++) {
      const d = DIRS[randomInt(rand, 4)];
      const to = neighbor(board, player, d);
      if (to < 0 || walls[to] || boxes.includes(to)) continue;
      const behindDir = d === 'up' ? 'down' : d === 'down' ? 'up' : d === 'left' ? 'right' : 'left';
      const behind = neighbor(board, player, behindDir);
      const k = behind < 0 ? -1 : boxes.indexOf(behind);
      if (k >= 0 && rand() < 0.8) {
        boxes[k] = player;
        if (k !== lastPulled) { swaps++; lastPulled = k; }
      }
      player = to;
      const displacement = boxes.reduce((sum, b, i) => sum + manhattan(width, b, goalCells[i]), 0);
      const score = swaps * displacement;
      const sorted = [...boxes].sort((a, b) => a - b);
      if (score > (best?.score ?? 0) && !isSolved(board, { player, boxes: sorted }) && !findDeadlock(board, { player, boxes: sorted })) {
        best = { player, boxes: sorted, score };
      }
    }
  }
  if (!best) return null;
  return { width, height, walls, goals, player: best.player, boxes: best.boxes };
}

function manhattan(width: number, a: number, b: number): number {
  return Math.abs(Math.floor(a / width) - Math.floor(b / width)) + Math.abs((a % width) - (b % width));
}
