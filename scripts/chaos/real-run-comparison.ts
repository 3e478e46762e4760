/**
 * Compares two runs of the real-model study (./real-crash-equivalence `RealRunResult`): two
 * undisturbed runs (what is reproducible at all on this machine) or an undisturbed run and a
 * chaos run (crash equivalence). Every check is one line: OK, DIFFERENT, or NOTE (measured, not
 * a pass/fail criterion, e.g. adapter bytes after a resumed training).
 *
 * Model requests are compared per request key (sha256 of the request body: model, messages,
 * seed, sampling), counting answers (HTTP 200) the proxy saw from vLLM:
 * - missing: asked in run a, not (as often) in run b;
 * - extra: asked in run b more often than in run a. In a chaos run each extra answer must be
 *   explained by a kill: the same key answered while a worker or the Temporal server was being
 *   killed (in flight at that moment), or answered after its client had gone (worker dead).
 */
import type { RealRunResult } from './real-crash-equivalence';
import type { ProxiedRequest } from './counting-proxy';

export interface RealComparison {
  equal: boolean;
  lines: string[];
}

const answersByKey = (r: RealRunResult) => {
  const m = new Map<string, ProxiedRequest[]>();
  for (const q of r.requests) if (q.status === 200) m.set(q.key, [...(m.get(q.key) ?? []), q]);
  return m;
};

const short = (s: string | null) => JSON.stringify((s ?? '').slice(0, 70));

export function compareRealRuns(a: RealRunResult, b: RealRunResult, mode: 'reproducibility' | 'chaos'): RealComparison {
  const lines: string[] = [];
  let equal = true;
  const check = (ok: boolean, line: string) => {
    if (!ok) equal = false;
    lines.push(`${ok ? 'OK       ' : 'DIFFERENT'} ${line}`);
  };
  const note = (line: string) => lines.push(`NOTE      ${line}`);
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

  // Datasets: raw bytes.
  for (const da of a.datasets) {
    const db = b.datasets.find((d) => d.method === da.method && d.iteration === da.iteration);
    const k = `${da.method}/it${da.iteration}`;
    for (const f of Object.keys(da.files)) check(db?.files[f] === da.files[f], `dataset ${k} ${f}: sha256 ${da.files[f].slice(0, 12)}… / ${db?.files[f]?.slice(0, 12) ?? '(missing)'}…`);
    check(db !== undefined && db.records === da.records && db.cf === da.cf && db.reh === da.reh, `dataset ${k}: ${da.records} records (cf ${da.cf}, reh ${da.reh}) / ${db ? `${db.records} (cf ${db.cf}, reh ${db.reh})` : '(missing)'}`);
  }
  check(a.datasets.length === b.datasets.length && a.datasets.length > 0, `datasets: ${a.datasets.length} / ${b.datasets.length}`);

  // Adapters: the training data is the dataset above (trl/train.jsonl links the prompt-completion file).
  for (const aa of a.adapters) {
    const ab = b.adapters.find((x) => x.method === aa.method && x.iteration === aa.iteration);
    const k = `${aa.method}/it${aa.iteration}`;
    if (!ab) {
      check(false, `adapter ${k}: missing in run b`);
      continue;
    }
    const trainData = (r: RealRunResult) => r.datasets.find((d) => d.method === aa.method && d.iteration === aa.iteration)?.files['train.prompt-completion.jsonl'];
    check(trainData(a) === trainData(b), `adapter ${k}: trained on byte-identical data (sha256 ${trainData(a)?.slice(0, 12)}…)`);
    const resumed = ab.resumedFrom !== aa.resumedFrom || ab.attempts !== aa.attempts;
    const weights = `adapter ${k}: adapter_model.safetensors ${aa.files['adapter_model.safetensors'].slice(0, 12)}… / ${ab.files['adapter_model.safetensors'].slice(0, 12)}… (trainer attempts ${aa.attempts} / ${ab.attempts}, resumed from ${aa.resumedFrom ?? '-'} / ${ab.resumedFrom ?? '-'})`;
    const sameWeights = aa.files['adapter_model.safetensors'] === ab.files['adapter_model.safetensors'];
    if (mode === 'chaos' && resumed && !sameWeights) note(`${weights}: DIFFERENT bytes after a resumed training`);
    else check(sameWeights, weights);
    const canonical = 'adapter_config.json (target_modules sorted)';
    check(aa.files[canonical] !== undefined && aa.files[canonical] === ab.files[canonical], `adapter ${k}: adapter_config.json identical up to the order of target_modules`);
    if (aa.files['adapter_config.json'] !== ab.files['adapter_config.json']) note(`adapter ${k}: adapter_config.json bytes differ (PEFT writes target_modules from a Python set: its order changes per process)`);
    for (const [name, h] of Object.entries(aa.checkpoints)) {
      if (ab.checkpoints[name] === undefined) continue;
      const line = `adapter ${k} ${name}: weights ${h === ab.checkpoints[name] ? 'identical' : 'differ'}`;
      if (mode === 'chaos' && resumed && h !== ab.checkpoints[name]) note(line);
      else check(h === ab.checkpoints[name], line);
    }
    const lossLine = `adapter ${k}: per-step training loss ${aa.losses.map((l) => l.loss).join(', ')} / ${ab.losses.map((l) => l.loss).join(', ')}`;
    if (mode === 'chaos' && resumed && !same(aa.losses, ab.losses)) note(lossLine);
    else check(same(aa.losses, ab.losses), lossLine);
  }

  // Evaluation and exploration.
  for (const ea of a.evaluations) {
    const eb = b.evaluations.find((e) => e.method === ea.method && e.iteration === ea.iteration);
    const k = `${ea.method}/it${ea.iteration} (${ea.model})`;
    check(eb !== undefined && same(ea.passAtK, eb.passAtK), `Pass@k ${k}: ${JSON.stringify(ea.passAtK)} / ${JSON.stringify(eb?.passAtK)}`);
    check(eb !== undefined && same(ea.counts, eb.counts), `per-task c/n ${k}: ${ea.counts.map((c) => `${c.c}/${c.n}`).join(' ')} / ${eb?.counts.map((c) => `${c.c}/${c.n}`).join(' ')}`);
  }
  check(same(a.explore, b.explore), `exploration numbers (episodes, solved, budget used, replayed, branches) identical`);
  check(
    same(a.usage, b.usage),
    `model requests recorded by the workflows: ${a.usage.map((u) => `${u.method}/it${u.iteration} ${u.requests}`).join(', ')} / ${b.usage.map((u) => `${u.method}/it${u.iteration} ${u.requests}`).join(', ')} (and token counts ${same(a.usage, b.usage) ? 'identical' : 'differ'})`,
  );

  // Requests seen by the proxy.
  const ka = answersByKey(a);
  const kb = answersByKey(b);
  let missing = 0;
  let extra = 0;
  let unexplained = 0;
  let sameAnswer = 0;
  let otherAnswer = 0;
  const killTimes = b.kills.log.filter((k) => k.kind === 'worker' || k.kind === 'server').map((k) => k.at);
  for (const key of new Set([...ka.keys(), ...kb.keys()])) {
    const na = ka.get(key)?.length ?? 0;
    const listB = kb.get(key) ?? [];
    missing += Math.max(0, na - listB.length);
    const ex = Math.max(0, listB.length - na);
    extra += ex;
    if (ex > 0) {
      const explained = listB.filter((q) => !q.delivered || killTimes.some((t) => q.at <= t && t <= q.at + q.ms)).length;
      unexplained += Math.max(0, ex - explained);
    }
    if (na > 0 && listB.length > 0) {
      if (ka.get(key)![0].answerSha256 === listB[0].answerSha256) sameAnswer++;
      else otherAnswer++;
    }
  }
  const total = (r: RealRunResult) => r.requests.filter((q) => q.status === 200).length;
  const statuses = (r: RealRunResult) => {
    const c: Record<string, number> = {};
    for (const q of r.requests) c[q.status] = (c[q.status] ?? 0) + 1;
    return JSON.stringify(c);
  };
  lines.push(`          proxy: ${total(a)} / ${total(b)} answers from vLLM (${ka.size} / ${kb.size} distinct requests); statuses ${statuses(a)} / ${statuses(b)}; answered after the client had gone: ${a.requests.filter((q) => q.status === 200 && !q.delivered).length} / ${b.requests.filter((q) => q.status === 200 && !q.delivered).length}`);
  check(otherAnswer === 0, `the same request got the same answer (sha256 of the text) in both runs: ${sameAnswer} same, ${otherAnswer} different`);
  const firstDiff = a.requests.find((q) => q.status === 200 && !(kb.get(q.key) ?? []).some((x) => x.answerSha256 === q.answerSha256));
  if (firstDiff) {
    const inB = kb.get(firstDiff.key)?.[0];
    note(`first request of run a without an equal one in run b: #${firstDiff.seq} (${firstDiff.kind}, ${firstDiff.model}, seed ${firstDiff.seed}); run b ${inB ? `asked it too and got ${short(inB.answer)} instead of ${short(firstDiff.answer)}` : 'never asked it (its prompt differs earlier)'}`);
  }
  check(missing === 0, `every request answered in run a was answered in run b (${missing} missing)`);
  if (mode === 'reproducibility') check(extra === 0, `no request answered more often in run b (${extra} extra)`);
  else check(unexplained === 0, `answers beyond run a: ${extra}, each one in flight at a worker/server kill or answered after its worker died (${unexplained} unexplained)`);
  check(b.requests.filter((q) => q.status === 404).length === 0, `run b: no request refused with 404 (unknown model: an adapter missing after a vLLM restart)`);
  return { equal, lines };
}
