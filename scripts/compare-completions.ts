/**
 * Reproducibility check for a real-model study: experiments of one study that ask the same
 * request (same stage path, step, kind, seed and trajectory) should get the same answer from a
 * seeded vLLM. Groups the completion journal of a run directory by the request minus the
 * experiment id and counts identical and differing answers.
 *
 *   node --import tsx scripts/compare-completions.ts <runDir> <experimentIdA> <experimentIdB>
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [runDir, a, b] = process.argv.slice(2);
if (!runDir || !a || !b) {
  process.stderr.write('usage: compare-completions.ts <runDir> <experimentIdA> <experimentIdB>\n');
  process.exit(2);
}
interface Entry { key: { workflowId: string; t: number; kind: string; seed: number; trajectoryRef: string; experience: string | null; model: string }; completion: { content: string } }
const byRequest = new Map<string, Map<string, string>>();
const root = path.join(runDir, 'completions');
for (const d of readdirSync(root)) {
  for (const f of readdirSync(path.join(root, d))) {
    const e = JSON.parse(readFileSync(path.join(root, d, f), 'utf8')) as Entry;
    const owner = [a, b].find((id) => e.key.workflowId.startsWith(`${id}/`));
    if (!owner) continue;
    const stage = e.key.workflowId.slice(owner.length);
    const request = JSON.stringify({ ...e.key, workflowId: stage });
    const answers = byRequest.get(request) ?? new Map<string, string>();
    answers.set(owner, e.completion.content);
    byRequest.set(request, answers);
  }
}
const counts = { both: 0, identical: 0, differing: 0, onlyOne: 0 };
const byStage: Record<string, { identical: number; differing: number }> = {};
for (const [request, answers] of byRequest) {
  if (answers.size < 2) {
    counts.onlyOne++;
    continue;
  }
  counts.both++;
  const stage = /\/it\d+\/(\w+)/.exec(JSON.parse(request).workflowId)?.[1] ?? '?';
  byStage[stage] ??= { identical: 0, differing: 0 };
  if (answers.get(a) === answers.get(b)) {
    counts.identical++;
    byStage[stage].identical++;
  } else {
    counts.differing++;
    byStage[stage].differing++;
  }
}
process.stdout.write(`${JSON.stringify({ runDir, a, b, ...counts, byStage }, null, 2)}\n`);
