/**
 * Code tasks from JSONL or JSONL.gz files in HumanEval or MBPP format. Parsed once per path.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

/** How the tests of a task are run by the harness (envs/code/harness.py). */
export type CodeTests =
  /** HumanEval: `test` defines check(candidate); each top-level statement of its body is run on its own. */
  | { kind: 'check'; test: string; entryPoint: string }
  /** MBPP: setup code, then each assert is one test. */
  | { kind: 'asserts'; setup: string; asserts: string[] };

export interface CodeTask {
  id: string;
  /** What the agent is shown: the problem statement (HumanEval prompt / MBPP text + signature hint). */
  statement: string;
  /** A complete reference program that passes the tests, when the data set has one. */
  reference?: string;
  /** Function name tested, when known. */
  entryPoint?: string;
  /** Code run before the candidate program (HumanEval: the prompt, so helpers it defines exist). */
  prelude?: string;
  tests: CodeTests;
}

const cache = new Map<string, Promise<CodeTask[]>>();

export async function loadCodeTasks(file: string): Promise<CodeTask[]> {
  let pending = cache.get(file);
  if (!pending) {
    pending = parseFile(file);
    cache.set(file, pending);
    // A failed load is not cached: the file may be fixed and retried.
    pending.catch(() => cache.delete(file));
  }
  return pending;
}

async function parseFile(file: string): Promise<CodeTask[]> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`code tasks: cannot read tasks file '${file}' (${code ?? String(err)}); expected a JSONL or JSONL.gz file`, { cause: err });
  }
  // gzip magic bytes, whatever the file is called.
  const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  const tasks: CodeTask[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const where = `${file} line ${i + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new Error(`code tasks: ${where} is not valid JSON (${(err as Error).message})`, { cause: err });
    }
    const task = toTask(record, where);
    if (seen.has(task.id)) throw new Error(`code tasks: ${where}: duplicate task id '${task.id}'`);
    seen.add(task.id);
    tasks.push(task);
  }
  if (tasks.length === 0) throw new Error(`code tasks: '${file}' contains no tasks`);
  return tasks;
}

const HUMANEVAL_FIELDS = ['task_id', 'prompt', 'canonical_solution', 'test', 'entry_point'];
const MBPP_FIELDS = ['task_id', 'text (or prompt)', 'code', 'test_list'];

function toTask(record: unknown, where: string): CodeTask {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new Error(`code tasks: ${where}: expected a JSON object, got ${Array.isArray(record) ? 'an array' : typeof record}`);
  }
  const r = record as Record<string, unknown>;
  // MBPP before HumanEval: sanitized MBPP and MBPP+ rows also carry `prompt` (and MBPP+ an entry_point).
  if ('test_list' in r && ('text' in r || 'prompt' in r)) {
    const textField = 'text' in r ? 'text' : 'prompt';
    const f = strings(r, [textField, 'code'], where);
    const list = r.test_list;
    if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string')) {
      throw new Error(`code tasks: ${where}: field 'test_list' must be a non-empty array of assert strings, got ${JSON.stringify(list)?.slice(0, 80)}`);
    }
    const setupCode = r.test_setup_code ?? '';
    if (typeof setupCode !== 'string') {
      throw new Error(`code tasks: ${where}: field 'test_setup_code' must be a string, got ${typeof setupCode}`);
    }
    // Sanitized MBPP / MBPP+: the imports the asserts rely on (["import math"]), run before them.
    const imports = r.test_imports ?? [];
    if (!Array.isArray(imports) || !imports.every((i) => typeof i === 'string' && /^\s*(import|from)\s/.test(i))) {
      throw new Error(`code tasks: ${where}: field 'test_imports' must be a list of import statements, got ${JSON.stringify(imports)?.slice(0, 80)}`);
    }
    const setup = [...(imports as string[]), setupCode].filter((l) => l.trim() !== '').join('\n');
    const asserts = list as string[];
    const name = typeof r.entry_point === 'string' ? r.entry_point : testedFunction(asserts[0]);
    const id = `MBPP/${idOf(r.task_id, where)}`;
    const examples = asserts.map((a) => a.trim()).join('\n');
    return {
      id,
      statement: `${f[textField].trim()}\nYour code should pass these tests:\n${examples}`,
      reference: f.code,
      entryPoint: name,
      tests: { kind: 'asserts', setup, asserts },
    };
  }
  if ('prompt' in r && 'entry_point' in r) {
    const f = strings(r, ['prompt', 'canonical_solution', 'test', 'entry_point'], where);
    const id = idOf(r.task_id, where);
    return {
      id,
      statement: f.prompt,
      reference: f.prompt + f.canonical_solution,
      entryPoint: f.entry_point,
      prelude: f.prompt,
      tests: { kind: 'check', test: f.test, entryPoint: f.entry_point },
    };
  }
  throw new Error(
    `code tasks: ${where}: record is neither HumanEval (fields ${HUMANEVAL_FIELDS.join(', ')}) ` +
      `nor MBPP (fields ${MBPP_FIELDS.join(', ')}, optional test_setup_code, test_imports); it has ${Object.keys(r).join(', ') || 'no fields'}`,
  );
}

/** Python builtins MBPP asserts wrap the tested call in (`set(f(x))`, `math.isclose(f(x), y)` is skipped as a method). */
const WRAPPERS = new Set(['assert', 'not', 'set', 'sorted', 'list', 'tuple', 'dict', 'len', 'abs', 'round', 'str', 'int', 'float', 'bool', 'all', 'any', 'sum', 'max', 'min', 'frozenset', 'isinstance', 'type']);

/** The function an MBPP assert tests: its first call of a plain name that is not a builtin wrapper. */
function testedFunction(assert: string): string | undefined {
  for (const m of assert.matchAll(/(?<![.\w])([A-Za-z_]\w*)\s*\(/g)) if (!WRAPPERS.has(m[1])) return m[1];
  return undefined;
}

function idOf(v: unknown, where: string): string {
  if (typeof v === 'string' && v) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new Error(`code tasks: ${where}: field 'task_id' must be a non-empty string or a number, got ${JSON.stringify(v)}`);
}

function strings<K extends string>(r: Record<string, unknown>, keys: K[], where: string): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const k of keys) {
    const v = r[k];
    if (typeof v !== 'string') throw new Error(`code tasks: ${where}: field '${k}' must be a string, got ${v === undefined ? 'nothing' : typeof v}`);
    out[k] = v;
  }
  return out;
}
