// Is vLLM's seeded sampling byte-identical here? (the real-model chaos run, docs/benchmarks.md)
//
//   node --import tsx scripts/vllm-determinism-probe.ts [--port 8130]
//
// Starts the managed vLLM (SmolLM2-135M-Instruct, as a study does) and asks one seeded request
// (temperature 0.7, as the studies) in three ways: alone, twice; then alone again after the
// server has answered other requests; then inside a batch of 8 different requests sent at once,
// twice. Prints the sha256 of each answer and whether they agree: the first two say whether a
// seed fixes the answer at all, the batch ones whether what else runs beside a request changes it.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findRealEnv } from '../runtime/real-model-env';
import { startVllmServer } from '../runtime/vllm-server';

const PROMPTS = ['square(x)', 'times_nine(x)', 'string_length(s)', 'absolute_value(x)', 'add_three(x)', 'is_even(n)', 'to_upper(s)', 'last_item(xs)'].map(
  (f) => `Write the Python function ${f}. Answer with one \`\`\`python block.`,
);

async function ask(baseUrl: string, prompt: string, seed: number): Promise<string> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'smollm2-135m-instruct', messages: [{ role: 'user', content: prompt }], temperature: 0.7, max_tokens: 120, seed }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
  return body.choices[0].message.content;
}

const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

async function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8130' } } });
  const real = findRealEnv();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-vllm-probe-'));
  const vllm = await startVllmServer({ env: real, modelDir: real.modelDir('smollm2-135m-instruct'), servedName: 'smollm2-135m-instruct', port: Number(values.port), logFile: path.join(dir, 'vllm.log') });
  try {
    const seed = 12345;
    const target = PROMPTS[0];
    const rows: Array<[string, string]> = [];
    rows.push(['alone #1', await ask(vllm.baseUrl, target, seed)]);
    rows.push(['alone #2', await ask(vllm.baseUrl, target, seed)]);
    for (const p of PROMPTS.slice(1)) await ask(vllm.baseUrl, p, seed + 1);
    rows.push(['alone #3 (after 7 others)', await ask(vllm.baseUrl, target, seed)]);
    for (const round of [1, 2]) {
      const all = await Promise.all(PROMPTS.map((p, i) => ask(vllm.baseUrl, p, i === 0 ? seed : seed + 100 * round + i)));
      rows.push([`in a batch of 8 #${round} (others: other seeds each round)`, all[0]]);
    }
    const same = await Promise.all(PROMPTS.map((p, i) => ask(vllm.baseUrl, p, i === 0 ? seed : seed + 1)));
    rows.push(['in a batch of 8 #3 (others: seeds of the alone-after round)', same[0]]);
    for (const [label, text] of rows) process.stdout.write(`${h(text)}  ${label}  ${JSON.stringify(text.slice(0, 60))}\n`);
    const distinct = new Set(rows.map(([, t]) => t)).size;
    process.stdout.write(`${distinct === 1 ? 'IDENTICAL' : `${distinct} DIFFERENT answers`} for one request with seed ${seed}\n`);
  } finally {
    await vllm.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
