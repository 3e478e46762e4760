import { describe, expect, it } from 'vitest';
import { parseLevel } from '../envs/sokoban/sokoban-level';
import { parseAction } from '../envs/sokoban/sokoban-actions';
import { findDeadlock } from '../envs/sokoban/sokoban-deadlock';
import { REWARD, SokobanEnvironment } from '../envs/sokoban/sokoban-environment';
import { createSokobanProvider } from '../envs/sokoban/sokoban-provider';
import { generateLevel } from '../envs/sokoban/sokoban-generator';
import { solve } from '../envs/sokoban/sokoban-solver';
import { parseObservation } from '../envs/sokoban/sokoban-observation';

function env(rows: string[]): SokobanEnvironment {
  return new SokobanEnvironment(parseLevel(rows.join('\n')));
}

describe('sokoban action parsing', () => {
  it.each([
    ['up', 'up'],
    ['LEFT', 'left'],
    ['U', 'up'],
    ['r', 'right'],
    ['move left', 'left'],
    ['Action: down', 'down'],
    ['Action: L', 'left'],
    ['right!', 'right'],
    ['"Down."', 'down'],
    ['The box is above me, so going left would waste time; I will go up.', 'up'],
    ['I think I should push the box right.\nAction: left', 'left'],
  ])('%j -> %s', (reply, dir) => {
    expect(parseAction(reply)).toBe(dir);
  });

  it.each(['', 'jump', 'I would like to think about it', "I'd rather wait"])('%j -> null', (reply) => {
    expect(parseAction(reply)).toBeNull();
  });

  it('turns an unparseable reply into a no-op with the valid actions, not an exception', async () => {
    const e = env(['######', '#@$ .#', '######']);
    const before = await e.reset();
    const r = await e.step('jump over the box');
    expect(r.observation).toBe(before);
    expect(r.feedback).toMatch(/Valid actions: up, down, left, right\. Nothing happened/);
    expect(r.done).toBe(false);
    expect(r.reward).toBe(REWARD.step);
  });
});

describe('sokoban feedback', () => {
  it('reports moves, pushes, walls, blocked boxes and goals', async () => {
    const e1 = env(['#######', '#@$$ .#', '#    .#', '#######']);
    await e1.reset();
    expect((await e1.step('up')).feedback).toBe('You tried to move up but a wall is in the way. Nothing happened.');
    expect((await e1.step('right')).feedback).toBe(
      'You tried to push the box at (1, 2) right, but it cannot move: another box is behind it. Nothing happened.',
    );
    expect((await e1.step('down')).feedback).toBe('You moved down to (2, 1).');

    const e2 = env(['######', '#.   #', '#  @$#', '#    #', '######']);
    await e2.reset();
    expect((await e2.step('right')).feedback).toMatch(/push the box at \(2, 4\) right, but it cannot move: a wall is behind it/);

    const e3 = env(['#######', '#@$.  #', '#  $. #', '#     #', '#######']);
    await e3.reset();
    const onGoal = await e3.step('right');
    expect(onGoal.feedback).toBe('You pushed the box right from (1, 2) to (1, 3). The box is now on a goal.');
    expect(onGoal.reward).toBeCloseTo(REWARD.step + REWARD.boxOnGoal);
    expect(onGoal.observation).toContain('Boxes on goals: 1/2');
    const off = await e3.step('right');
    expect(off.feedback).toBe('You pushed the box right from (1, 3) to (1, 4). The box is no longer on a goal.');
    expect(off.reward).toBeCloseTo(REWARD.step + REWARD.boxOffGoal);
    expect(off.done).toBe(false);
  });

  it('ends with success and +1 when the last box reaches its goal', async () => {
    const e = env(['######', '#@$ .#', '######']);
    await e.reset();
    await e.step('right');
    const last = await e.step('right');
    expect(last).toMatchObject({ done: true, success: true });
    expect(last.feedback).toMatch(/the level is solved!/);
    expect(last.reward).toBeCloseTo(REWARD.step + REWARD.boxOnGoal + REWARD.solved);
    expect((await e.step('left')).feedback).toMatch(/episode is over/);
  });
});

describe('sokoban deadlocks', () => {
  it('fires on a box pushed into a corner, naming the box, and ends the episode', async () => {
    const e = env(['######', '# $@.#', '#    #', '######']);
    await e.reset();
    const r = await e.step('left');
    expect(r.feedback).toMatch(/Deadlock: the box at \(1, 1\) is stuck in a corner/);
    expect(r).toMatchObject({ done: true, success: false });
    const open = new SokobanEnvironment(parseLevel(['######', '# $@.#', '#    #', '######'].join('\n')), { endOnDeadlock: false });
    await open.reset();
    expect((await open.step('left')).done).toBe(false);
  });

  it('fires on a box pushed against a wall with no goal along it', async () => {
    const level = parseLevel(['#######', '#  .  #', '#     #', '#     #', '#@ $  #', '#######'].join('\n'));
    expect(findDeadlock(level, level)).toEqual({ box: 4 * 7 + 3, reason: 'wall' });
    const e = env(['#######', '#  .  #', '#     #', '#  $  #', '#  @  #', '#######']);
    await e.reset();
    await e.step('left');
    await e.step('up');
    await e.step('up');
    await e.step('right');
    const r = await e.step('down'); // push the box onto row 4, along the bottom wall
    expect(r.feedback).toMatch(/Deadlock: the box at \(4, 3\) is pushed against a wall with no goal along it/);
  });

  it('does not fire for a box on a goal in a corner, nor along a wall that holds a goal', async () => {
    const corner = parseLevel(['#####', '#*  #', '# @ #', '#####'].join('\n'));
    expect(findDeadlock(corner, corner)).toBeNull();
    const e = env(['######', '#   .#', '#  $ #', '# @  #', '######']);
    await e.reset();
    const r = await e.step('up'); // box to row 1, along the top wall that has a goal
    expect(r.feedback).not.toMatch(/Deadlock/);
    expect(r.done).toBe(false);
  });

  it('detects a frozen 2x2 block of boxes with an off-goal box', () => {
    const level = parseLevel(['######', '#    #', '# $$ #', '# $$ #', '#@...#', '#   .#', '######'].join('\n'));
    expect(findDeadlock(level, level)?.reason).toBe('block');
  });
});

describe('sokoban determinism and provider', () => {
  it('replaying an action prefix reproduces the same state, observations and feedback', async () => {
    const level = generateLevel({ width: 8, height: 8, boxes: 3, seed: 42 });
    const actions = ['up', 'left', 'Action: down', 'nonsense', 'right', 'right', 'up', 'down', 'left', 'left', 'up'];
    const run = async () => {
      const e = new SokobanEnvironment(level);
      const out = [await e.reset()];
      for (const a of actions) out.push(JSON.stringify(await e.step(a)));
      return { out, state: e.current };
    };
    const a = await run();
    const b = await run();
    expect(b).toEqual(a);
    const e = new SokobanEnvironment(level);
    await e.reset();
    for (const x of actions.slice(0, 5)) await e.step(x);
    const reset = await e.reset();
    expect(reset).toBe(a.out[0]);
    for (const x of actions.slice(0, 5)) await e.step(x);
    const next = await e.step(actions[5]);
    expect(JSON.stringify(next)).toBe(a.out[6]);
  });

  it('lists generated tasks in a stable order and opens them', async () => {
    const p = createSokobanProvider({ kind: 'sokoban', count: 3, seed: 5 });
    expect(await p.listTasks()).toEqual(['sokoban-5-0', 'sokoban-5-1', 'sokoban-5-2']);
    expect(await p.listTasks(2)).toEqual(['sokoban-5-0', 'sokoban-5-1']);
    const e = await p.open('sokoban-5-1', 0);
    const obs = await e.reset();
    const level = parseObservation(obs);
    expect(level.width).toBe(7);
    expect(level.boxes.length).toBe(2);
    expect(solve(level, level)).not.toBeNull();
    await expect(p.open('sokoban-5-9', 0)).rejects.toThrow(/sokoban task id "sokoban-5-9" is unknown/);
    expect(p.instructions()).toMatch(/Actions: up, down, left, right/);
  });

  it('serves the levels of a file as <basename>#<index>', async () => {
    const p = createSokobanProvider({ kind: 'sokoban', levels: 'examples/levels/leafe-small.txt' });
    expect(await p.listTasks()).toEqual([0, 1, 2, 3, 4].map((i) => `leafe-small.txt#${i}`));
    const e = await p.open('leafe-small.txt#0', 1);
    expect(await e.reset()).toContain('#._$@_#');
    expect(() => createSokobanProvider({ kind: 'sokoban', levels: 'nope.txt' })).toThrow(/sokoban levels = "nope.txt": cannot read/);
    expect(() => createSokobanProvider({ kind: 'sokoban', boxes: 0 })).toThrow(/boxes = 0; expected an integer from 1/);
  });
});
