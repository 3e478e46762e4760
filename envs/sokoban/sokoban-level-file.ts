import { readFileSync } from 'node:fs';
import { type CollectionLevel, parseLevelCollection } from './sokoban-collection';

/** Reads an XSB/Boxoban level file (activity side only: uses node:fs). */
export function loadLevelFile(path: string): CollectionLevel[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`sokoban levels = ${JSON.stringify(path)}: cannot read the file (${(err as Error).message}); expected an XSB or Boxoban level file`, { cause: err });
  }
  return parseLevelCollection(text, path);
}
