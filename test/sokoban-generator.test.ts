import { describe, expect, it } from 'vitest';
import { generateLevel } from '../envs/sokoban/sokoban-generator';
import { isSolved, parseLevel, renderLevel } from '../envs/sokoban/sokoban-level';
import { solve } from '../envs/sokoban/sokoban-solver';
import { applyMove } from '../envs/sokoban/sokoban-rules';
import { findDeadlock } from '../envs/sokoban/sokoban-deadlock';

describe('sokoban generator', () => {
  it('generates solvable, unsolved levels of the requested size and box count', () => {
    for (const [width, height, boxes] of [[7, 7, 2], [7, 7, 1], [8, 8, 3], [10, 10, 4]]) {
      for (let seed = 0; seed < 8; seed++) {
        const level = generateLevel({ width, height, boxes, seed });
        expect(level.width).toBe(width);
        expect(level.height).toBe(height);
        expect(level.boxes.length).toBe(boxes);
        expect(level.goals.filter(Boolean).length).toBe(boxes);
        expect(isSolved(level, level)).toBe(false);
        expect(findDeadlock(level, level)).toBeNull();
        const plan = solve(level, level);
        expect(plan, `seed ${seed}:\n${renderLevel(level)}`).not.toBeNull();
        expect(plan!.length).toBeGreaterThanOrEqual(boxes + 2);
        // The plan really solves it when played through the rules.
        let state = { player: level.player, boxes: level.boxes };
        for (const dir of plan!) {
          const o = applyMove(level, state, dir);
          if (o.kind !== 'moved' && o.kind !== 'pushed') throw new Error(`illegal ${dir}`);
          state = o.state;
        }
        expect(isSolved(level, state)).toBe(true);
        // Enclosed: the border is wall.
        for (let c = 0; c < width; c++) expect(level.walls[c] && level.walls[(height - 1) * width + c]).toBe(true);
      }
    }
  });

  it('is identical for the same seed and differs across seeds', () => {
    const a = generateLevel({ width: 7, height: 7, boxes: 2, seed: 123 });
    const b = generateLevel({ width: 7, height: 7, boxes: 2, seed: 123 });
    expect(b).toEqual(a);
    const renders = new Set(Array.from({ length: 10 }, (_, s) => renderLevel(generateLevel({ width: 7, height: 7, boxes: 2, seed: s }))));
    expect(renders.size).toBeGreaterThanOrEqual(9);
  });

  it('rejects bad settings naming the field and the value', () => {
    expect(() => generateLevel({ width: 3, height: 7, boxes: 1, seed: 0 })).toThrow(/width = 3; expected an integer from 5 to 30/);
    expect(() => generateLevel({ width: 7, height: 7, boxes: 2.5, seed: 0 })).toThrow(/boxes = 2.5/);
  });
});

describe('sokoban solver', () => {
  it('returns a moves-optimal plan, [] when solved and null when unsolvable', () => {
    const level = parseLevel(['#######', '#@ $ .#', '#######'].join('\n'));
    expect(solve(level, level)).toEqual(['right', 'right', 'right']);
    const solved = parseLevel('#####\n#@*.#\n#$  #\n#####');
    expect(solve(solved, { player: solved.player, boxes: [7] })).toEqual([]);
    const stuck = parseLevel(['######', '#$ @.#', '######'].join('\n'));
    expect(solve(stuck, stuck)).toBeNull();
  });

  it('gives up at the state limit', () => {
    const level = generateLevel({ width: 10, height: 10, boxes: 4, seed: 1 });
    expect(solve(level, level, { maxStates: 10 })).toBeNull();
  });
});
