/**
 * Level collections: the Boxoban layout ("; 0" comment line, grid, blank line, "; 1", ...)
 * and plain XSB files (levels separated by blank lines, ';' comments or "Title:"-style
 * lines). Any non-grid line ends the current level; the last comment/title line before a
 * grid becomes its title. Pure (the file-reading wrapper is in sokoban-level-file.ts).
 */
import { type SokobanLevel, SokobanParseError, isGridLine, parseLevel, renderLevel } from './sokoban-level';

export interface CollectionLevel {
  /** 0-based position in the file. */
  index: number;
  /** The comment or title line before the grid, without ';' (e.g. "0" in Boxoban files). */
  title: string | null;
  /** 1-based line number of the first grid row. */
  line: number;
  level: SokobanLevel;
}

export function parseLevelCollection(text: string, source = 'levels'): CollectionLevel[] {
  const lines = text.split(/\r?\n/);
  const out: CollectionLevel[] = [];
  let rows: string[] = [];
  let firstRow = 0;
  let title: string | null = null;
  const flush = () => {
    if (rows.length === 0) return;
    try {
      out.push({ index: out.length, title, line: firstRow, level: parseLevel(rows, firstRow) });
    } catch (err) {
      if (err instanceof SokobanParseError) throw new SokobanParseError(`${source}: ${err.message}`);
      throw err;
    }
    rows = [];
    title = null;
  };
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (isGridLine(line)) {
      if (rows.length === 0) firstRow = i + 1;
      rows.push(line);
      return;
    }
    const trimmed = line.trim();
    // A line that looks like a grid row with a bad character is an error, not a title.
    if (/^#/.test(trimmed) && /#\s*$/.test(trimmed)) {
      const bad = [...line].findIndex((c) => !'#@+$*.-_ '.includes(c));
      throw new SokobanParseError(
        `${source}: line ${i + 1}, column ${bad + 1}: unexpected character ${JSON.stringify(line[bad])} in a grid row; expected one of # @ + $ * . space - _`,
      );
    }
    flush();

    if (trimmed === '') return;
    title = trimmed.replace(/^;\s*/, '').replace(/^title:\s*/i, '') || title;
  });
  flush();
  if (out.length === 0) throw new SokobanParseError(`${source}: no levels found; expected XSB grids (rows of # @ + $ * . and spaces)`);
  return out;
}

/** Boxoban layout: "; <index>" then the grid, blank line between levels. */
export function renderLevelCollection(levels: SokobanLevel[]): string {
  return levels.map((l, i) => `; ${i}\n${renderLevel(l)}\n`).join('\n');
}
