/**
 * Plausible bugs for the simulated code policy: small textual mutations of a reference Python
 * program, the kinds of mistakes models make (wrong comparison, off-by-one, sign, missing case,
 * wrong constant). Only code lines are touched (not docstrings or comments), so a mutation
 * changes behaviour, not just text.
 */

interface MutationSite {
  line: number;
  kind: string;
  apply: (lines: string[]) => string[];
}

/** Marks lines inside triple-quoted strings or comments; mutations skip them. */
function codeLineMask(lines: string[]): boolean[] {
  const mask: boolean[] = [];
  let inString: string | null = null;
  for (const line of lines) {
    const startedInString = inString !== null;
    const quotes = line.match(/"""|'''/g) ?? [];
    for (const q of quotes) {
      if (inString === null) inString = q;
      else if (inString === q) inString = null;
    }
    const trimmed = line.trim();
    const isCode = !startedInString && quotes.length === 0 && trimmed !== '' && !trimmed.startsWith('#') && !/^(def|class|import|from|@)\b/.test(trimmed);
    mask.push(isCode);
  }
  return mask;
}

/** One textual replacement inside a line, at a regex match. */
function replaceAt(lines: string[], line: number, index: number, length: number, replacement: string): string[] {
  const copy = [...lines];
  const l = copy[line];
  copy[line] = l.slice(0, index) + replacement + l.slice(index + length);
  return copy;
}

/** Character ranges of a line that are string literals or a comment, where edits would be cosmetic. */
function literalRanges(line: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const re = /(['"])(?:\\.|(?!\1).)*\1|#.*$/g;
  for (const m of line.matchAll(re)) ranges.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
  return ranges;
}

// Direction flips rather than strict/non-strict swaps: the latter are often equivalent on the tests.
const COMPARISON_SWAPS: Record<string, string> = { '<=': '>=', '>=': '<=', '<': '>', '>': '<', '==': '!=', '!=': '==' };

function findSites(lines: string[]): MutationSite[] {
  const mask = codeLineMask(lines);
  const sites: MutationSite[] = [];
  const addRegex = (i: number, kind: string, re: RegExp, replace: (m: RegExpExecArray) => string) => {
    const literals = literalRanges(lines[i]);
    for (const m of lines[i].matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'))) {
      if (m.index === undefined) continue;
      const [from, to] = [m.index, m.index + m[0].length];
      if (literals.some(([a, b]) => from < b && to > a)) continue;
      const match = m as RegExpExecArray;
      const index = m.index;
      sites.push({ line: i, kind, apply: (ls) => replaceAt(ls, i, index, match[0].length, replace(match)) });
    }
  };

  lines.forEach((line, i) => {
    if (!mask[i]) return;
    // Comparisons (not ->, <<, >>, <>, or augmented assignments).
    addRegex(i, 'comparison', /(?<![<>=!-])(<=|>=|==|!=|<|>)(?![<>=])/, (m) => COMPARISON_SWAPS[m[1]]);
    // Off-by-one in range(...) bounds and len(...).
    addRegex(i, 'off-by-one', /range\(([^()]*(?:\([^()]*\))?[^()]*)\)/, (m) => `range(${m[1]} - 1)`);
    addRegex(i, 'off-by-one', /len\(([^()]+)\)(?!\s*[-+])/, (m) => `len(${m[1]}) - 1`);
    addRegex(i, 'off-by-one', /\[(-?\d+)\]/, (m) => `[${Number(m[1]) === -1 ? -2 : Number(m[1]) + 1}]`);
    addRegex(i, 'off-by-one', /\[(\d+):\]/, (m) => `[${Number(m[1]) + 1}:]`);
    // Sign flips in binary + / - (with spaces, so unary minus and '+=' forms are left alone).
    addRegex(i, 'sign', / ([+-]) (?!=)/, (m) => (m[1] === '+' ? ' - ' : ' + '));
    addRegex(i, 'sign', / ([+-])= /, (m) => (m[1] === '+' ? ' -= ' : ' += '));
    // Arithmetic operator slips.
    addRegex(i, 'arithmetic', / (%|\*|\/\/) (?!=)/, (m) => (m[1] === '%' ? ' // ' : m[1] === '*' ? ' + ' : ' / '));
    // Inverted membership test in a condition or comprehension filter.
    addRegex(i, 'membership', /(\bif\b[^:]*?) (not in|in) /, (m) => `${m[1]} ${m[2] === 'in' ? 'not in' : 'in'} `);
    // Boolean logic and extrema.
    addRegex(i, 'logic', /\b(and|or)\b/, (m) => (m[1] === 'and' ? 'or' : 'and'));
    addRegex(i, 'extremum', /\b(min|max)\(/, (m) => (m[1] === 'min' ? 'max(' : 'min('));
    // Wrong return constant.
    addRegex(i, 'return-constant', /return (True|False|-?\d+|None|\[\]|''|"")\s*$/, (m) => {
      const v = m[1];
      const wrong =
        v === 'True' ? 'False' : v === 'False' ? 'True' : v === 'None' ? '0' : v === '[]' ? '[0]' : v === "''" || v === '""' ? "' '" : String(Number(v) + 1);
      return `return ${wrong}`;
    });
    // Missing case: drop an `if` block (its header and indented body) when no elif/else hangs on it.
    const ifMatch = /^(\s*)if\b.*:\s*$/.exec(line);
    if (ifMatch) {
      const indent = ifMatch[1].length;
      let end = i + 1;
      while (end < lines.length && (lines[end].trim() === '' || lines[end].search(/\S/) > indent)) end++;
      const next = lines[end]?.trim() ?? '';
      const bodyLines = lines.slice(i + 1, end).filter((l) => l.trim() !== '').length;
      if (bodyLines > 0 && !/^(elif|else)\b/.test(next)) {
        // Keep the function non-empty: an if that is the only statement of its block is negated instead.
        const prev = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
        const opensBlock = /:\s*$/.test(prev) && prev.search(/\S/) < indent;
        const closesBlock = end >= lines.length || lines[end].search(/\S/) < indent;
        if (opensBlock && closesBlock) {
          sites.push({ line: i, kind: 'missing-case', apply: (ls) => ls.map((l, j) => (j === i ? l.replace(/^(\s*)if\s*(.*?):\s*$/, '$1if not ($2):') : l)) });
        } else {
          sites.push({ line: i, kind: 'missing-case', apply: (ls) => [...ls.slice(0, i), ...ls.slice(end)] });
        }
      }
    }
  });
  return sites;
}

/** Function name a trivially wrong program defines: the entry point, else the last def in the reference. */
function entryName(reference: string, entryPoint?: string): string {
  if (entryPoint) return entryPoint;
  const defs = [...reference.matchAll(/^def (\w+)\s*\(/gm)];
  return defs.length ? defs[defs.length - 1][1] : 'solution';
}

export function triviallyWrongProgram(reference: string, entryPoint?: string): string {
  return `def ${entryName(reference, entryPoint)}(*args, **kwargs):\n    return None\n`;
}

export interface Mutation {
  kind: string;
  program: string;
}

/**
 * A buggy variant of `reference`, chosen with `rand`; always textually different from it.
 * Falls back to a trivially wrong program when no mutation site exists.
 */
export function mutateProgram(reference: string, rand: () => number, entryPoint?: string): Mutation {
  const lines = reference.split('\n');
  const sites = findSites(lines);
  // Try sites in a random order until one changes the text.
  while (sites.length > 0) {
    const [site] = sites.splice(Math.floor(rand() * sites.length), 1);
    const program = site.apply(lines).join('\n');
    if (program !== reference) return { kind: site.kind, program };
  }
  return { kind: 'trivially-wrong', program: triviallyWrongProgram(reference, entryPoint) };
}
