/**
 * Tolerant action parsing: models wrap the move in prose ("I'll push the box. Action: left"),
 * so the LAST direction word wins. Single letters U/D/L/R count only when they are the
 * whole reply or follow "action:"/"move", because stray letters in prose ("I'd") would
 * otherwise be misread.
 */
import type { Direction } from './sokoban-level';

const WORDS: Record<string, Direction> = {
  up: 'up', down: 'down', left: 'left', right: 'right',
  north: 'up', south: 'down', west: 'left', east: 'right',
};
const LETTERS: Record<string, Direction> = { u: 'up', d: 'down', l: 'left', r: 'right' };

export function parseAction(reply: string): Direction | null {
  const text = reply.toLowerCase();
  const words = text.match(/[a-z]+/g) ?? [];
  for (let i = words.length - 1; i >= 0; i--) {
    const dir = WORDS[words[i]];
    if (dir) return dir;
  }
  if (words.length === 1 && LETTERS[words[0]]) return LETTERS[words[0]];
  const labelled = /(?:action|move)\s*[:=-]?\s*\W*([udlr])\W*$/.exec(text);
  return labelled ? LETTERS[labelled[1]] : null;
}
