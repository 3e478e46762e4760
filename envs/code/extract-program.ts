/**
 * The program inside a model's answer. Decision: the LAST complete fenced block tagged
 * python/py/python3 wins; else the last complete untagged fence; else the whole text. Models
 * often show a snippet or a usage example first and the final program last; a block of
 * another language (```bash to run it, ```text output) is never taken for the program.
 */
const FENCE = /^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n([\s\S]*?)^[ \t]*```[ \t]*$/gm;
const PYTHON_TAGS = new Set(['python', 'py', 'python3']);

export function extractProgram(answer: string): string {
  const text = answer.replace(/\r\n/g, '\n');
  let lastPython: string | undefined;
  let lastPlain: string | undefined;
  for (const m of text.matchAll(FENCE)) {
    const tag = m[1].toLowerCase();
    if (PYTHON_TAGS.has(tag)) lastPython = m[2];
    else if (tag === '') lastPlain = m[2];
  }
  const body = lastPython ?? lastPlain ?? text;
  return body.replace(/\s+$/, '') + '\n';
}
