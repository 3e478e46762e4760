import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLevel, renderLevel } from '../envs/sokoban/sokoban-level';
import { parseLevelCollection, renderLevelCollection } from '../envs/sokoban/sokoban-collection';
import { loadLevelFile } from '../envs/sokoban/sokoban-level-file';
import { parseObservation, renderObservation } from '../envs/sokoban/sokoban-observation';
import { solve } from '../envs/sokoban/sokoban-solver';

const EXAMPLES = 'examples/levels/leafe-small.txt';

// Boxoban layout (our own grids, same format: "; n", 10x10 grid, blank line).
const BOXOBAN_SNIPPET = `; 0
##########
##########
##  ######
##  .#####
##  $ ####
###@  ####
###  #####
##########
##########
##########

; 1
##########
#   ######
# #  #####
# $ .#####
#  @ #####
#    #####
##########
##########
##########
##########
`;

describe('sokoban XSB model', () => {
  it('parses every cell type and accepts - and _ as floor', () => {
    const level = parseLevel(['#######', '#@$.-_#', '#_*$ .#', '#######'].join('\n'));
    expect(level.width).toBe(7);
    expect(level.height).toBe(4);
    expect(level.player).toBe(8);
    expect(level.boxes).toEqual([9, 16, 17]);
    expect(level.goals.filter(Boolean).length).toBe(3);
    const onGoal = parseLevel('#####\n#+$ #\n#####');
    expect(onGoal.player).toBe(6);
    expect(onGoal.goals[6]).toBe(true);
  });

  it('round-trips parse(render(level)) for both floor characters', () => {
    for (const entry of loadLevelFile(EXAMPLES)) {
      expect(parseLevel(renderLevel(entry.level))).toEqual(entry.level);
      expect(parseLevel(renderLevel(entry.level, '_'))).toEqual(entry.level);
      expect(parseObservation(renderObservation(entry.level, entry.level))).toEqual(entry.level);
    }
  });

  it('reports a missing player, a box/goal mismatch and bad characters with line numbers', () => {
    expect(() => parseLevel('#####\n#$. #\n#####')).toThrow(/found 0 players; expected exactly one/);
    expect(() => parseLevel('#####\n#@$ #\n#.. #\n#####')).toThrow(/1 boxes but 2 goals/);
    expect(() => parseLevelCollection('; 0\n#####\n#@$.#\n#####\n\n; 1\n#####\n#@$ #\n#####\n', 'f.txt')).toThrow(
      /f\.txt: level at line 7: 1 boxes but 0 goals/,
    );
    expect(() => parseLevelCollection('; 0\n#####\n#@X$.#\n#####\n', 'f.txt')).toThrow(/line 3, column 3: unexpected character "X"/);
  });
});

describe('sokoban level files', () => {
  it('loads the example file: all levels, in order, solvable', () => {
    const levels = loadLevelFile(EXAMPLES);
    expect(levels.length).toBe(5);
    expect(levels.map((l) => l.index)).toEqual([0, 1, 2, 3, 4]);
    expect(levels.map((l) => l.title)).toEqual(['0', '1', '2', '3', '4']);
    for (const l of levels) expect(solve(l.level, l.level, { maxStates: 2_000_000 })).not.toBeNull();
  });

  it('round-trips the example file and a Boxoban-style snippet through render and parse', () => {
    for (const text of [readFileSync(EXAMPLES, 'utf8'), BOXOBAN_SNIPPET]) {
      const levels = parseLevelCollection(text).map((l) => l.level);
      const again = parseLevelCollection(renderLevelCollection(levels)).map((l) => l.level);
      expect(again).toEqual(levels);
    }
    const boxoban = parseLevelCollection(BOXOBAN_SNIPPET);
    expect(boxoban.map((l) => [l.title, l.line, l.level.width, l.level.height])).toEqual([
      ['0', 2, 10, 10],
      ['1', 14, 10, 10],
    ]);
  });

  it('reads plain XSB files with titles and blank-line separators', () => {
    const xsb = `Title: first\n  ####\n###@.#\n#  $ #\n#    #\n######\n\n;second level\n#####\n#@*.#\n#$  #\n#####\n`;
    const levels = parseLevelCollection(xsb);
    expect(levels.map((l) => l.title)).toEqual(['first', 'second level']);
    expect(levels[0].level.width).toBe(6);
    expect(levels[1].level.boxes.length).toBe(2);
  });
});
