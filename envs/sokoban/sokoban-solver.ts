/**
 * Breadth-first solver over (player cell, box cells). It is optimal in MOVES (every step of
 * the player counts, pushes included), which is what the simulator needs: the first move
 * of an optimal plan is "the right move". Pushes onto squares that are deadlocks are pruned
 * (the deadlock checks are sound, so optimality is kept).
 */
import { type Direction, type SokobanBoard, type SokobanState, isSolved } from './sokoban-level';
import { applyMove } from './sokoban-rules';
import { findDeadlock } from './sokoban-deadlock';

export interface SolveOptions {
  /** Give up (return null) after this many distinct states. */
  maxStates?: number;
}

export const DEFAULT_MAX_STATES = 300_000;

const DIRS: readonly Direction[] = ['up', 'down', 'left', 'right'];

function stateKey(state: SokobanState): string {
  return String.fromCharCode(state.player, ...state.boxes);
}

/**
 * A moves-optimal action list, [] when already solved, or null when the level is
 * unsolvable or the state limit was reached.
 */
export function solve(board: SokobanBoard, start: SokobanState, options: SolveOptions = {}): Direction[] | null {
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  if (isSolved(board, start)) return [];
  if (findDeadlock(board, start)) return null;
  const states: SokobanState[] = [start];
  const parent: number[] = [-1];
  const via: Direction[] = ['up'];
  const seen = new Set<string>([stateKey(start)]);
  for (let head = 0; head < states.length; head++) {
    const state = states[head];
    for (const dir of DIRS) {
      const outcome = applyMove(board, state, dir);
      if (outcome.kind !== 'moved' && outcome.kind !== 'pushed') continue;
      const key = stateKey(outcome.state);
      if (seen.has(key)) continue;
      seen.add(key);
      if (outcome.kind === 'pushed' && findDeadlock(board, outcome.state, outcome.to)) continue;
      states.push(outcome.state);
      parent.push(head);
      via.push(dir);
      if (outcome.kind === 'pushed' && isSolved(board, outcome.state)) {
        const path: Direction[] = [];
        for (let i = states.length - 1; i > 0; i = parent[i]) path.push(via[i]);
        return path.reverse();
      }
      if (seen.size >= maxStates) return null;
    }
  }
  return null;
}

const distanceCache = new Map<string, number | null>();
const DISTANCE_CACHE_LIMIT = 2048;

/**
 * Number of moves of an optimal solution from `state` (null: unsolvable or over the limit).
 * Cached per (board, state): the simulator asks the same question often.
 */
export function solutionLength(board: SokobanBoard, state: SokobanState, options: SolveOptions = {}): number | null {
  const key = `${board.width}x${board.height}:${board.walls.map(Number).join('')}:${board.goals.map(Number).join('')}:${stateKey(state)}:${options.maxStates ?? DEFAULT_MAX_STATES}`;
  if (distanceCache.has(key)) return distanceCache.get(key) as number | null;
  const path = solve(board, state, options);
  const length = path ? path.length : null;
  if (distanceCache.size >= DISTANCE_CACHE_LIMIT) distanceCache.delete(distanceCache.keys().next().value as string);
  distanceCache.set(key, length);
  return length;
}
