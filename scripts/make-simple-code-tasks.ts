/**
 * Writes examples/tasks/simple-functions.jsonl: small function-writing tasks in HumanEval format
 * (prompt = signature + docstring with one example, hidden tests in check(candidate)), sized for
 * a 135M model (docs/real-model.md: why this family). Deterministic: the same file every run.
 *
 *   node --import tsx scripts/make-simple-code-tasks.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../infra/paths';

interface Family {
  name: (k: number) => string;
  args: string;
  doc: (k: number) => string;
  body: (k: number) => string;
  /** [call arguments, expected] pairs; the first is the docstring example. */
  cases: (k: number) => Array<[string, string]>;
  ks: number[];
}

const NUM = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const r = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v).replace(/true/g, 'True').replace(/false/g, 'False'));

const families: Family[] = [
  { name: (k) => `add_${NUM[k]}`, args: 'x', doc: (k) => `Return x plus ${k}.`, body: (k) => `return x + ${k}`, cases: (k) => [[`1`, `${1 + k}`], [`0`, `${k}`], [`-5`, `${-5 + k}`], [`100`, `${100 + k}`]], ks: [3, 7] },
  { name: (k) => `times_${NUM[k]}`, args: 'x', doc: (k) => `Return x multiplied by ${k}.`, body: (k) => `return x * ${k}`, cases: (k) => [[`2`, `${2 * k}`], [`0`, `0`], [`-3`, `${-3 * k}`], [`11`, `${11 * k}`]], ks: [4, 9] },
  { name: () => 'square', args: 'x', doc: () => 'Return the square of x.', body: () => 'return x * x', cases: () => [['3', '9'], ['0', '0'], ['-4', '16'], ['12', '144']], ks: [0] },
  { name: () => 'cube', args: 'x', doc: () => 'Return x to the power of three.', body: () => 'return x ** 3', cases: () => [['2', '8'], ['0', '0'], ['-3', '-27'], ['5', '125']], ks: [0] },
  { name: (k) => `is_multiple_of_${NUM[k]}`, args: 'n', doc: (k) => `Return True if n is divisible by ${k}, else False.`, body: (k) => `return n % ${k} == 0`, cases: (k) => [[`${k * 3}`, 'True'], [`${k * 3 + 1}`, 'False'], ['0', 'True'], [`${k * 7}`, 'True'], [`${k * 5 - 1}`, 'False']], ks: [3, 5] },
  { name: () => 'is_even', args: 'n', doc: () => 'Return True if n is even, else False.', body: () => 'return n % 2 == 0', cases: () => [['4', 'True'], ['7', 'False'], ['0', 'True'], ['-3', 'False']], ks: [0] },
  { name: () => 'sum_list', args: 'numbers', doc: () => 'Return the sum of the numbers in the list.', body: () => 'return sum(numbers)', cases: () => [['[1, 2, 3]', '6'], ['[]', '0'], ['[-1, 1, 5]', '5'], ['[10]', '10']], ks: [0] },
  { name: () => 'product_list', args: 'numbers', doc: () => 'Return the product of the numbers in the list (1 for an empty list).', body: () => 'p = 1\n    for x in numbers:\n        p *= x\n    return p', cases: () => [['[2, 3, 4]', '24'], ['[]', '1'], ['[5]', '5'], ['[-1, 2]', '-2']], ks: [0] },
  { name: () => 'largest', args: 'numbers', doc: () => 'Return the largest number in a non-empty list.', body: () => 'return max(numbers)', cases: () => [['[3, 9, 2]', '9'], ['[-5, -2, -9]', '-2'], ['[7]', '7'], ['[1, 1, 0]', '1']], ks: [0] },
  { name: () => 'smallest', args: 'numbers', doc: () => 'Return the smallest number in a non-empty list.', body: () => 'return min(numbers)', cases: () => [['[3, 9, 2]', '2'], ['[-5, -2, -9]', '-9'], ['[7]', '7'], ['[1, 1, 0]', '0']], ks: [0] },
  { name: () => 'reverse_string', args: 's', doc: () => 'Return the string s reversed.', body: () => 'return s[::-1]', cases: () => [[r('abc'), r('cba')], [r(''), r('')], [r('hello'), r('olleh')], [r('a b'), r('b a')]], ks: [0] },
  { name: () => 'to_upper', args: 's', doc: () => 'Return s with every letter in upper case.', body: () => 'return s.upper()', cases: () => [[r('abc'), r('ABC')], [r('Hi there'), r('HI THERE')], [r(''), r('')], [r('a1b'), r('A1B')]], ks: [0] },
  { name: () => 'string_length', args: 's', doc: () => 'Return the number of characters in s.', body: () => 'return len(s)', cases: () => [[r('abc'), '3'], [r(''), '0'], [r('hello world'), '11']], ks: [0] },
  { name: () => 'first_item', args: 'items', doc: () => 'Return the first element of a non-empty list.', body: () => 'return items[0]', cases: () => [['[4, 5, 6]', '4'], [`[${r('a')}]`, r('a')], ['[0, 1]', '0']], ks: [0] },
  { name: () => 'last_item', args: 'items', doc: () => 'Return the last element of a non-empty list.', body: () => 'return items[-1]', cases: () => [['[4, 5, 6]', '6'], [`[${r('a')}]`, r('a')], ['[0, 1]', '1']], ks: [0] },
  { name: (k) => `repeat_${NUM[k]}_times`, args: 's', doc: (k) => `Return the string s repeated ${k} times.`, body: (k) => `return s * ${k}`, cases: (k) => [[r('ab'), r('ab'.repeat(k))], [r(''), r('')], [r('x'), r('x'.repeat(k))]], ks: [2, 3] },
  { name: () => 'absolute_value', args: 'x', doc: () => 'Return the absolute value of x without using abs().', body: () => 'return x if x >= 0 else -x', cases: () => [['-3', '3'], ['4', '4'], ['0', '0'], ['-10', '10']], ks: [0] },
  { name: () => 'average', args: 'numbers', doc: () => 'Return the average (arithmetic mean) of a non-empty list of numbers.', body: () => 'return sum(numbers) / len(numbers)', cases: () => [['[1, 2, 3]', '2'], ['[4]', '4'], ['[1, 2]', '1.5'], ['[-2, 2]', '0']], ks: [0] },
  { name: () => 'count_positive', args: 'numbers', doc: () => 'Return how many numbers in the list are greater than zero.', body: () => 'return sum(1 for x in numbers if x > 0)', cases: () => [['[1, -2, 3]', '2'], ['[]', '0'], ['[0, 0]', '0'], ['[5, 6, 7]', '3']], ks: [0] },
  { name: (k) => `keep_above_${NUM[k]}`, args: 'numbers', doc: (k) => `Return a list of the numbers greater than ${k}, in their original order.`, body: (k) => `return [x for x in numbers if x > ${k}]`, cases: (k) => [[`[1, ${k}, ${k + 1}, ${k + 5}]`, `[${k + 1}, ${k + 5}]`], ['[]', '[]'], [`[${k + 2}, 0]`, `[${k + 2}]`]], ks: [2, 6] },
  { name: () => 'factorial', args: 'n', doc: () => 'Return n! (the product 1 * 2 * ... * n) for n >= 0; factorial(0) is 1.', body: () => 'result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result', cases: () => [['5', '120'], ['0', '1'], ['1', '1'], ['6', '720']], ks: [0] },
  { name: () => 'fibonacci', args: 'n', doc: () => 'Return the n-th Fibonacci number, with fibonacci(0) = 0 and fibonacci(1) = 1.', body: () => 'a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a', cases: () => [['6', '8'], ['0', '0'], ['1', '1'], ['10', '55']], ks: [0] },
  { name: () => 'is_palindrome', args: 's', doc: () => 'Return True if s reads the same forwards and backwards, else False.', body: () => 'return s == s[::-1]', cases: () => [[r('level'), 'True'], [r('abc'), 'False'], [r(''), 'True'], [r('abba'), 'True'], [r('ab'), 'False']], ks: [0] },
  { name: () => 'count_vowels', args: 's', doc: () => "Return how many characters of s are lower-case vowels ('a', 'e', 'i', 'o', 'u').", body: () => "return sum(1 for c in s if c in 'aeiou')", cases: () => [[r('hello'), '2'], [r(''), '0'], [r('xyz'), '0'], [r('aeiou'), '5']], ks: [0] },
  { name: () => 'remove_spaces', args: 's', doc: () => 'Return s with every space character removed.', body: () => "return s.replace(' ', '')", cases: () => [[r('a b c'), r('abc')], [r(''), r('')], [r('  x '), r('x')]], ks: [0] },
  { name: () => 'celsius_to_fahrenheit', args: 'c', doc: () => 'Convert a temperature from Celsius to Fahrenheit (c * 9 / 5 + 32).', body: () => 'return c * 9 / 5 + 32', cases: () => [['100', '212'], ['0', '32'], ['-40', '-40'], ['37', '98.6']], ks: [0] },
  { name: () => 'sum_of_digits', args: 'n', doc: () => 'Return the sum of the decimal digits of a non-negative integer n.', body: () => 'return sum(int(d) for d in str(n))', cases: () => [['123', '6'], ['0', '0'], ['9999', '36'], ['505', '10']], ks: [0] },
  { name: () => 'count_words', args: 's', doc: () => 'Return the number of words in s, where words are separated by whitespace.', body: () => 'return len(s.split())', cases: () => [[r('hello big world'), '3'], [r(''), '0'], [r('  one  '), '1']], ks: [0] },
  { name: () => 'max_of_two', args: 'a, b', doc: () => 'Return the larger of a and b.', body: () => 'return a if a > b else b', cases: () => [['3, 8', '8'], ['8, 3', '8'], ['-1, -2', '-1'], ['5, 5', '5']], ks: [0] },
  { name: () => 'double_all', args: 'numbers', doc: () => 'Return a new list with every number doubled.', body: () => 'return [2 * x for x in numbers]', cases: () => [['[1, 2, 3]', '[2, 4, 6]'], ['[]', '[]'], ['[-1]', '[-2]']], ks: [0] },
  { name: () => 'count_occurrences', args: 'items, value', doc: () => 'Return how many times value appears in the list items.', body: () => 'return items.count(value)', cases: () => [['[1, 2, 1, 3], 1', '2'], ['[], 5', '0'], [`[${r('a')}, ${r('b')}], ${r('b')}`, '1']], ks: [0] },
  { name: () => 'second_largest', args: 'numbers', doc: () => 'Return the second largest distinct number in a list with at least two distinct numbers.', body: () => 'return sorted(set(numbers))[-2]', cases: () => [['[1, 5, 3]', '3'], ['[9, 9, 2]', '2'], ['[-1, -7, 0]', '-1']], ks: [0] },
];

function approx(expected: string): boolean {
  return expected.includes('.');
}

const lines: string[] = [];
for (const f of families) {
  for (const k of f.ks) {
    const name = f.name(k);
    const cases = f.cases(k);
    const [exArgs, exOut] = cases[0];
    const prompt = `def ${name}(${f.args}):\n    """${f.doc(k)}\n    >>> ${name}(${exArgs})\n    ${exOut}\n    """\n`;
    const test = `def check(candidate):\n${cases.map(([a, e]) => (approx(e) ? `    assert abs(candidate(${a}) - ${e}) < 1e-6` : `    assert candidate(${a}) == ${e}`)).join('\n')}\n`;
    lines.push(JSON.stringify({ task_id: `Simple/${name}`, prompt, canonical_solution: `    ${f.body(k)}\n`, test, entry_point: name }));
  }
}
// Interleave easy and harder families across the train/eval split: a fixed shuffle (LCG, seed 7).
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
for (let i = lines.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [lines[i], lines[j]] = [lines[j], lines[i]];
}
const out = path.join(PROJECT_ROOT, 'examples', 'tasks', 'simple-functions.jsonl');
writeFileSync(out, `${lines.join('\n')}\n`);
process.stderr.write(`wrote ${lines.length} tasks to ${out}\n`);
