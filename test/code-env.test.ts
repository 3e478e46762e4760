import { HUMANEVAL_FILE } from '../infra/paths';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodeProvider } from '../envs/code/code-provider';
import { loadCodeTasks } from '../envs/code/code-tasks';
import { extractProgram } from '../envs/code/extract-program';
import { formatFeedback } from '../envs/code/format-feedback';
import { runTests } from '../envs/code/run-tests';
import { ALLOW_WEAK_SANDBOX_ENV, type IsolationLevel } from '../envs/code/sandbox';

const HUMANEVAL = HUMANEVAL_FILE;

const MBPP = [
  {
    task_id: 11,
    text: 'Write a python function to remove first and last occurrence of a given character from the string.',
    code: 'def remove_Occ(s,ch):\r\n    s = s.replace(ch, "", 1)\r\n    s = s[::-1].replace(ch, "", 1)[::-1]\r\n    return s',
    test_list: ['assert remove_Occ("hello","l") == "heo"', 'assert remove_Occ("abcda","a") == "bcd"', 'assert remove_Occ("PHP","P") == "H"'],
    test_setup_code: '',
  },
  {
    task_id: 12,
    text: 'Write a function that adds OFFSET to a number.',
    code: 'def add_offset(x):\n    return x + OFFSET',
    test_list: ['assert add_offset(1) == 11', 'assert add_offset(-10) == 0'],
    test_setup_code: 'OFFSET = 10',
  },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'leafe-code-test-'));
  writeFileSync(join(dir, 'mbpp.jsonl'), MBPP.map((r) => JSON.stringify(r)).join('\n') + '\n');
  // gzip detected by magic bytes, not by name
  writeFileSync(join(dir, 'mbpp-zipped.data'), gzipSync(MBPP.map((r) => JSON.stringify(r)).join('\n')));
  writeFileSync(join(dir, 'bad-json.jsonl'), JSON.stringify(MBPP[0]) + '\n{not json\n');
  writeFileSync(join(dir, 'bad-record.jsonl'), JSON.stringify({ task_id: 1, question: 'x' }) + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('task loading', () => {
  it('reads HumanEval from the gzipped file', async () => {
    const tasks = await loadCodeTasks(HUMANEVAL);
    expect(tasks).toHaveLength(164);
    expect(tasks[0].id).toBe('HumanEval/0');
    expect(tasks[0].entryPoint).toBe('has_close_elements');
    expect(tasks[0].statement).toContain('def has_close_elements');
    expect(await loadCodeTasks(HUMANEVAL)).toBe(tasks); // cached by path
  });

  it('reads MBPP with ids, examples in the statement and separate asserts', async () => {
    for (const file of ['mbpp.jsonl', 'mbpp-zipped.data']) {
      const tasks = await loadCodeTasks(join(dir, file));
      expect(tasks.map((t) => t.id)).toEqual(['MBPP/11', 'MBPP/12']);
      expect(tasks[0].statement).toContain('assert remove_Occ("PHP","P") == "H"');
      expect(tasks[0].tests).toMatchObject({ kind: 'asserts', asserts: MBPP[0].test_list });
      expect(tasks[0].entryPoint).toBe('remove_Occ');
    }
  });

  it('names the problem in errors', async () => {
    await expect(loadCodeTasks(join(dir, 'missing.jsonl'))).rejects.toThrow(/missing\.jsonl.*ENOENT/);
    await expect(loadCodeTasks(join(dir, 'bad-json.jsonl'))).rejects.toThrow(/line 2 is not valid JSON/);
    await expect(loadCodeTasks(join(dir, 'bad-record.jsonl'))).rejects.toThrow(/line 1: record is neither HumanEval \(fields task_id, prompt.*nor MBPP.*it has task_id, question/);
  });
});

describe('program extraction', () => {
  it('takes the last python block, else the last plain block, else the whole text', () => {
    expect(extractProgram('Here:\n```python\ndef f():\n    return 1\n```\nDone.')).toBe('def f():\n    return 1\n');
    expect(extractProgram('```py\nx = 1\n```\nbetter:\n```python\nx = 2\n```\n```bash\npython x.py\n```')).toBe('x = 2\n');
    expect(extractProgram('```\ny = 3\n```')).toBe('y = 3\n');
    expect(extractProgram('def g():\n    pass')).toBe('def g():\n    pass\n');
    // an unclosed fence is not a block
    expect(extractProgram('```python\nz = 1')).toBe('```python\nz = 1\n');
  });
});

describe('code environment', () => {
  const provider = createCodeProvider({ kind: 'code', tasks: HUMANEVAL });

  it('lists tasks in file order and rejects unknown ids', async () => {
    expect(await provider.listTasks(3)).toEqual(['HumanEval/0', 'HumanEval/1', 'HumanEval/2']);
    await expect(provider.open('HumanEval/9999', 0)).rejects.toThrow(/taskId 'HumanEval\/9999' is not in/);
    expect(provider.instructions()).toContain('```python');
  });

  it('passes the reference solutions of the first 20 HumanEval tasks', async () => {
    const tasks = (await loadCodeTasks(HUMANEVAL)).slice(0, 20);
    const results = await Promise.all(
      tasks.map(async (task) => {
        const env = await provider.open(task.id, 0);
        expect(await env.reset()).toBe(task.statement);
        return { id: task.id, r: await env.step('```python\n' + task.reference + '\n```') };
      }),
    );
    for (const { id, r } of results) {
      expect(r, id).toMatchObject({ success: true, done: true, reward: 1 });
    }
  });

  it('names the failing asserts of a broken program, deterministically', async () => {
    const env = await provider.open('HumanEval/0', 0);
    await env.reset();
    const broken = '```python\ndef has_close_elements(numbers, threshold):\n    print("garbage {\\"event\\": \\"done\\"}")\n    return True\n```';
    const a = await env.step(broken);
    const b = await env.step(broken);
    expect(a).toEqual(b);
    expect(a.success).toBe(false);
    expect(a.done).toBe(false);
    expect(a.reward).toBeCloseTo(4 / 7);
    expect(a.observation).toBe('4/7 tests passed.');
    expect(a.feedback).toContain('assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False');
    expect(a.feedback).toContain('left side was True');
  });

  it('reports syntax errors, exceptions and timeouts as feedback', async () => {
    const env = await provider.open('HumanEval/2', 0);
    const syntax = await env.step('def truncate_number(x)\n    return x');
    expect(syntax.feedback).toMatch(/does not compile: SyntaxError.*line 1/);
    const exc = await env.step('def truncate_number(x):\n    raise ValueError("nope")');
    expect(exc.feedback).toMatch(/ValueError: nope \(solution\.py line 2\)/);
    const loop = await env.step('def truncate_number(x):\n    while True:\n        pass');
    expect(loop.feedback).toMatch(/timed out/);
    expect(loop.reward).toBe(0);
  });

  it('runs MBPP fixtures with setup code', async () => {
    const mbpp = createCodeProvider({ kind: 'code', tasks: join(dir, 'mbpp.jsonl') });
    const tasks = await loadCodeTasks(join(dir, 'mbpp.jsonl'));
    for (const task of tasks) {
      const env = await mbpp.open(task.id, 1);
      expect(await env.step(task.reference!)).toMatchObject({ success: true, reward: 1 });
    }
    const env = await mbpp.open('MBPP/11', 1);
    const wrong = await env.step('def remove_Occ(s, ch):\n    return s[1:-1]');
    expect(wrong.observation).toBe('2/3 tests passed.');
    expect(wrong.feedback).toContain('assert remove_Occ("hello","l") == "heo"');
    expect(wrong.feedback).toContain("left side was 'ell'");
  });

  it('MBPP asserts see the program\'s imports, as in MBPP\'s own evaluation; sanitized MBPP / MBPP+ rows (prompt, test_imports) load and pass', async () => {
    const rows = [
      // Original MBPP: the assert uses `math`, which only the program imports.
      { task_id: 21, text: 'Write a function that returns the area of a circle of radius r.', code: 'import math\ndef circle_area(r):\n    return math.pi * r * r', test_list: ['assert math.isclose(circle_area(1), 3.141592653589793)'], test_setup_code: '' },
      // Sanitized MBPP / MBPP+ shape: `prompt` instead of `text`, and the asserts' imports in test_imports.
      { task_id: 'Mbpp/22', prompt: 'Write a function that returns the square root of x.', code: 'def root(x):\n    return x ** 0.5', test_imports: ['import math'], test_list: ['assert math.isclose(root(2), 1.4142135623730951)'], entry_point: 'root', source_file: 'x.py' },
      // `import os.path as p` binds the submodule; a module named by a candidate outside the standard library is not imported here.
      { task_id: 23, text: 'Join two path parts.', code: 'import os.path as p\nimport not_a_stdlib_module_xyz\ndef join2(a, b):\n    return p.join(a, b)', test_list: ['assert join2("a", "b") == p.join("a", "b")'], test_setup_code: '' },
    ];
    writeFileSync(join(dir, 'mbpp-imports.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const tasks = await loadCodeTasks(join(dir, 'mbpp-imports.jsonl'));
    expect(tasks.map((t) => [t.id, t.entryPoint])).toEqual([['MBPP/21', 'circle_area'], ['MBPP/Mbpp/22', 'root'], ['MBPP/23', 'join2']]);
    const provider = createCodeProvider({ kind: 'code', tasks: join(dir, 'mbpp-imports.jsonl') });
    const circle = await provider.open('MBPP/21', 1);
    expect(await circle.step(tasks[0].reference!), 'a correct program that imports math').toMatchObject({ success: true, reward: 1 });
    const root = await provider.open('MBPP/Mbpp/22', 1);
    expect(await root.step(tasks[1].reference!)).toMatchObject({ success: true, reward: 1 });
    const join2 = await provider.open('MBPP/23', 1);
    // The unknown module fails the program's own import (in the sandbox): a load error, not a harness failure.
    expect((await join2.step(tasks[2].reference!)).feedback).toMatch(/ModuleNotFoundError/);
    expect(await join2.step('import os.path as p\ndef join2(a, b):\n    return p.join(a, b)')).toMatchObject({ success: true, reward: 1 });
  });
});

// Candidate code that tries to change its own verdict instead of solving the task (issue 13).
// Each one is wrong on purpose: `add` subtracts.
describe('forged verdicts', () => {
  const provider = createCodeProvider({ kind: 'code', tasks: HUMANEVAL });
  const WRONG_ADD = 'def add(x, y):\n    return x - y\n';
  const forgeries: Record<string, string> = {
    'patching the harness through __main__': 'import __main__\n__main__._run_limited = lambda fn: ("pass", "")\n' + WRONG_ADD,
    'patching builtins': 'import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.AssertionError = type("Never", (BaseException,), {})\n' + WRONG_ADD,
    'sys.exit(0) before the tests': WRONG_ADD + 'import sys\nsys.exit(0)\n',
    'os._exit(0) before the tests': WRONG_ADD + 'import os\nos._exit(0)\n',
    'writing fake result lines to every open fd, then exiting': [
      'import __main__, json, os, sys',
      'nonce = getattr(__main__, "_nonce", "")',
      'lines = [{"event": "plan", "tests": ["t"] * 6}, {"event": "load", "ok": True}]',
      'lines += [{"event": "test", "index": i, "status": "pass", "message": ""} for i in range(6)] + [{"event": "done"}]',
      'data = "".join(nonce + json.dumps(x) + "\\n" for x in lines).encode()',
      'print(data.decode(), file=sys.stderr, flush=True)',
      'for fd in range(1, 256):',
      '    try:',
      '        os.write(fd, data)',
      '    except OSError:',
      '        pass',
      'os._exit(0)',
      WRONG_ADD,
    ].join('\n'),
    'returning an object equal to everything': 'class Yes:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n\ndef add(x, y):\n    return Yes()\n',
    'returning a subclass of int equal to everything': 'class Yes(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n\ndef add(x, y):\n    return Yes(x - y)\n',
  };

  for (const [name, program] of Object.entries(forgeries)) {
    it(`scores ${name} as failed`, async () => {
      const env = await provider.open('HumanEval/53', 0);
      await env.reset();
      const r = await env.step('```python\n' + program + '\n```');
      expect(r, r.feedback).toMatchObject({ success: false, done: false });
      expect(r.reward).toBeLessThan(1);
      expect(r.feedback).not.toMatch(/^All \d+ tests passed/);
    });
  }

  it('gives a program that exits at import the same feedback every time (replay depends on it)', async () => {
    const program = '```python\n' + WRONG_ADD + 'import os\nos._exit(0)\n```';
    const feedbacks = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const env = await provider.open('HumanEval/53', 0);
      await env.reset();
      feedbacks.add((await env.step(program)).feedback);
    }
    expect([...feedbacks]).toHaveLength(1);
    expect([...feedbacks][0]).toContain('it exited with code 0');
  });

  // The same forgeries at the weaker levels (opted into): the verdict is out of reach there too
  // (rlimit excepted: the candidate is the worker's own user, see docs/sandbox.md).
  const weakLevels: IsolationLevel[] = process.getuid?.() === 0 ? ['unshare', 'setpriv'] : [];
  for (const level of weakLevels) {
    it(`scores every forgery as failed at ${level} too`, async () => {
      const task = (await loadCodeTasks(HUMANEVAL))[53];
      process.env[ALLOW_WEAK_SANDBOX_ENV] = '1';
      try {
        for (const [name, program] of Object.entries(forgeries)) {
          const run = await runTests(task, program, { level });
          expect(run.isolation.level).toBe(level);
          const success = run.total > 0 && run.passed === run.total && !run.load && !run.killed;
          expect(success, `${name} at ${level}`).toBe(false);
        }
      } finally {
        delete process.env[ALLOW_WEAK_SANDBOX_ENV];
      }
    });
  }

  it('keeps the hidden tests out of the candidate process', async () => {
    const tasks = await loadCodeTasks(HUMANEVAL);
    const task = { ...tasks[53], tests: { kind: 'check' as const, entryPoint: 'add', test: "def check(candidate):\n    assert candidate(2, 3) == 5, 'HIDDEN' 'TEST' 'MARKER-7f3a'\n" } };
    // Looks for the marker (never spelled out in one piece here) everywhere the program can reach.
    const snoop = [
      'import gc, glob, os, sys',
      'needle = "HIDDEN" + "TESTMARKER"',
      'found = []',
      'def look(s, where):',
      '    if isinstance(s, (str, bytes)) and len(s) > len(needle):',
      '        t = s if isinstance(s, str) else s.decode("utf8", "replace")',
      '        if needle in t.replace("\' \'", "").replace("\'", ""):',
      '            found.append(where)',
      'for o in gc.get_objects():',
      '    vals = o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else []',
      '    for v in list(vals):',
      '        look(v, "memory")',
      'for m in list(sys.modules.values()):',
      '    for v in list(vars(m).values()):',
      '        look(v, "module " + m.__name__)',
      'for p in glob.glob("/proc/[0-9]*/cmdline") + glob.glob("/proc/[0-9]*/environ"):',
      '    try:',
      '        look(open(p, "rb").read(), p)',
      '    except OSError:',
      '        pass',
      'try:',
      '    look(sys.stdin.read(), "stdin")',
      'except Exception:',
      '    pass',
      'print("SNOOP", sorted(set(found)), flush=True)',
      'def add(x, y):',
      '    return x + y',
    ].join('\n');
    const run = await runTests(task, snoop);
    expect(run.stdout).toContain('SNOOP');
    expect(run.stdout).toContain('SNOOP []');
    expect(run.passed).toBe(1);
  });
});

describe('tests run outside the sandbox, calling the candidate over a pipe', () => {
  const asserts = (setup: string, list: string[]) => ({ id: 'T/1', statement: '', entryPoint: 'f', tests: { kind: 'asserts' as const, setup, asserts: list } });

  it('passes plain values both ways: tuples, sets, dicts, bytes, special floats, big ints, numpy values, in-place changes to arguments', async () => {
    const task = asserts('', [
      'assert f(1) == (1, "1")',
      'assert f(2) == {2: [2.5, None]}',
      'assert f(3) == {frozenset({3}), b"3"}',
      "assert str(f(4)) == str((float('inf'), float('nan'), 1j))",
      'assert f(5) == 10 ** 5000',
      'x = [3, 1, 2]\nf(x)\nassert x == [1, 2, 3]',
      'd = {}\nf(d)\nassert d == {"seen": True}',
      'assert f(6) == 7 and type(f(6)) is int',
    ]);
    const program = [
      'def f(v):',
      '    if isinstance(v, list):',
      '        v.sort()',
      '        return None',
      '    if isinstance(v, dict):',
      '        v["seen"] = True',
      '        return None',
      '    if v == 6:',
      '        return NumpyLike()',
      '    return {1: (1, "1"), 2: {2: [2.5, None]}, 3: {frozenset({3}), b"3"}, 4: (float("inf"), float("nan"), 1j), 5: 10 ** 5000}[v]',
      '',
      'class NumpyLike:  # what np.int64(7) looks like to the encoder: no int, but tolist()',
      '    __module__ = "numpy"',
      '    def tolist(self):',
      '        return 7',
    ].join('\n');
    const run = await runTests(task, program);
    expect(run.tests.filter((t) => t.status !== 'pass')).toEqual([]);
    expect(run.passed).toBe(8);
  });

  it("re-raises the candidate's exceptions as their builtin class, with the program's line", async () => {
    const task = asserts('', ['try:\n    f(-1)\n    assert False, "no error"\nexcept ValueError as e:\n    assert "negative" in str(e)', 'assert f(-2) == 0']);
    const run = await runTests(task, 'class Negative(ValueError):\n    pass\n\ndef f(x):\n    raise Negative("negative input")\n');
    expect(run.tests.map((t) => [t.status, t.message])).toEqual([
      ['pass', ''],
      ['error', 'Negative: negative input (solution.py line 5)'],
    ]);
  });

  it('passes non-plain values back to the candidate by reference (an MBPP class used by the tests)', async () => {
    const task = asserts('', ['assert longest([Pair(1, 2), Pair(3, 9)]) == 6', 'assert Pair(1, 2) != Pair(1, 2)']);
    const program = 'class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n\ndef longest(pairs):\n    return max(p.b - p.a for p in pairs)\n';
    const run = await runTests(task, program);
    expect(run.tests.map((t) => t.status)).toEqual(['pass', 'pass']);
    // Such a value has no truth value in the tests (its __bool__ would be the program's word).
    const truthy = await runTests(asserts('', ['assert f(1)', 'assert not f(0)']), 'class Always:\n    def __bool__(self):\n        return True\n\ndef f(x):\n    return Always()\n');
    expect(truthy.tests.map((t) => [t.status, t.message])).toEqual([
      ['error', 'TypeError: a Always object from the program has no truth value in the tests'],
      ['error', 'TypeError: a Always object from the program has no truth value in the tests'],
    ]);
  });

  it('checks results of some MiB, and refuses larger ones without losing the next tests', async () => {
    const task = asserts('', ['assert len(f(10**6)) == 10**6', 'assert len(f(3 * 10**6)) == 3 * 10**6', 'assert f(2) == [0, 1]']);
    // Room for a loaded machine: the size check, not the time limit, is under test.
    const run = await runTests(task, 'def f(n):\n    return list(range(n))\n', { perTestMs: 20_000, limits: { wallMs: 90_000 } });
    expect(run.tests.map((t) => [t.status, t.message])).toEqual([
      ['pass', ''],
      ['error', "ResultError: the program's result is larger than 16 MiB"],
      ['pass', ''],
    ]);
    expect(run.killed).toBeUndefined();
  });

  it('never lets a program answer for a builtin the tests use', async () => {
    const task = asserts('', ['assert set(f(1)) == set([1, 2])', 'assert len(f(2)) == 3']);
    const run = await runTests(task, 'def set(*a):\n    return 0\n\ndef len(*a):\n    return 3\n\ndef f(x):\n    return []\n');
    expect(run.tests.map((t) => t.status)).toEqual(['fail', 'fail']);
  });

  it('stops a candidate that ignores its time limit, and says so', async () => {
    const task = asserts('', ['assert f(1) == 1', 'assert f(2) == 2', 'assert f(3) == 3']);
    const program = 'import signal\n\ndef f(x):\n    if x == 2:\n        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n        while True:\n            pass\n    return x\n';
    const started = Date.now();
    const run = await runTests(task, program, { perTestMs: 500 });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(run.tests.map((t) => t.status)).toEqual(['pass', 'timeout', 'not-run']);
    expect(run.killed).toEqual({ kind: 'unresponsive' });
    expect(formatFeedback(run, { wallMs: 20_000, cpuSeconds: 15 })).toContain('a test ran past its time limit and could not be interrupted');
  });
});
