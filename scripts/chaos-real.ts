// `npm run chaos:real`: crash equivalence on the REAL model (SmolLM2-135M on the managed vLLM,
// TRL LoRA, hot-loaded adapters; needs `npx leafe setup real`). See scripts/chaos/real-crash-equivalence.ts.
//
//   npm run chaos:real -- [--runs undisturbed,undisturbed2,chaos] [--dir <dir>] [--serialize] [--force]
//
// Runs the study scripts/chaos/real-study.yaml once per label, one after the other (one vLLM at a
// time), each with a fresh dev server, worker process, vLLM and run directory, the same study id
// and seeds. A label starting with `chaos` runs under the kill plan of that name (below: chaos, chaos-b). Each run's result is
// kept in <dir>/<label>/result.json and a run whose result is there is not run again (--force:
// run it anyway), so an interrupted session loses at most the run under way. Then it prints
// undisturbed vs undisturbed2 (what is reproducible here) and undisturbed vs chaos (crash
// equivalence): EQUAL or DIFFERENT (exit code 1).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTemporalCli } from '../runtime/temporal-cli';
import { PROJECT_ROOT } from '../infra/paths';
import { loadSpec } from '../spec/load-spec';
import { adapterDir, adapterFacts, runRealStudyOnce, type PlannedKill, type RealRunResult } from './chaos/real-crash-equivalence';
import { compareRealRuns } from './chaos/real-run-comparison';

/**
 * The kills of a chaos run, each paced by the study's progress (answers counted by the proxy, a
 * checkpoint on disk). Placed from an undisturbed run's 26 answers (docs/benchmarks.md): 7 in the
 * evaluation of the base model, 12 in exploration (3 of them reflections), 7 in the evaluation
 * through the adapter. A worker kill costs an extra answer or two (the request it had in flight
 * is asked again), so counts run a little ahead of the undisturbed run's.
 */
export const REAL_KILL_PLANS: Record<string, PlannedKill[]> = {
  chaos: [
    { kind: 'worker', when: { count: 3, of: 'any' } }, // it0 evaluation of the base model
    { kind: 'server', when: { count: 1, of: 'reflect' }, downtimeMs: 1500 }, // exploration
    { kind: 'worker', when: { count: 14, of: 'any' } }, // exploration
    { kind: 'trainer', method: 'leafe', afterCheckpoint: 1 },
    { kind: 'vllm', when: { count: 2, of: 'adapter' } }, // final evaluation, through the adapter
    { kind: 'worker', when: { count: 5, of: 'adapter' } }, // final evaluation, after the vLLM restart
  ],
  // The same kinds at other moments: vLLM before any adapter exists, the trainer late, the server
  // during the evaluation through the adapter.
  'chaos-b': [
    { kind: 'vllm', when: { count: 4, of: 'any' } }, // it0 evaluation of the base model
    { kind: 'worker', when: { count: 2, of: 'reflect' } }, // exploration
    { kind: 'trainer', method: 'leafe', afterCheckpoint: 3 },
    { kind: 'server', when: { count: 3, of: 'adapter' }, downtimeMs: 1500 }, // final evaluation
    { kind: 'worker', when: { count: 5, of: 'adapter' } }, // final evaluation, after the server restart
  ],
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: 'undisturbed,chaos' },
      dir: { type: 'string', default: path.join(PROJECT_ROOT, '.leafe', 'chaos-real') },
      spec: { type: 'string', default: path.join(PROJECT_ROOT, 'scripts', 'chaos', 'real-study.yaml') },
      serialize: { type: 'boolean', default: false },
      'proxy-port': { type: 'string', default: '8131' },
      force: { type: 'boolean', default: false },
    },
  });
  const dir = path.resolve(values.dir);
  const log = (line: string) => process.stderr.write(`chaos:real ${new Date().toISOString().slice(11, 19)}Z ${line}\n`);
  const cli = resolveTemporalCli({ log });
  const loaded = await loadSpec(values.spec);
  const labels = values.runs.split(',').map((l) => l.trim()).filter(Boolean);
  const results = new Map<string, RealRunResult>();
  for (const label of labels) {
    const runDir = path.join(dir, label);
    const file = path.join(runDir, 'result.json');
    if (existsSync(file) && !values.force) {
      const kept = JSON.parse(readFileSync(file, 'utf8')) as RealRunResult;
      // Adapter facts are re-read from the run directory: results kept from older versions of this script lack some.
      kept.adapters = kept.adapters.map((x) => {
        const dir = adapterDir(path.join(runDir, 'run'), kept.studyId, x.method, x.iteration);
        return existsSync(dir) ? { ...adapterFacts(x.method, x.iteration, dir, x.resumedFrom), resumedFrom: x.resumedFrom } : x;
      });
      results.set(label, kept);
      log(`${label}: kept from ${file}`);
      continue;
    }
    rmSync(runDir, { recursive: true, force: true });
    if (label.startsWith('chaos') && !REAL_KILL_PLANS[label]) throw new Error(`--runs: ${label}: no kill plan of that name; expected one of ${Object.keys(REAL_KILL_PLANS).join(', ')} (or a label not starting with "chaos": undisturbed)`);
    const plan = label.startsWith('chaos') ? REAL_KILL_PLANS[label] : [];
    log(`${label}: starting (${plan.length} planned kills${values.serialize ? ', requests one at a time' : ''}); dir ${runDir}`);
    results.set(label, await runRealStudyOnce({ label, dir: runDir, loaded, studyId: 'real-chaos', cli, proxyPort: Number(values['proxy-port']), serialize: values.serialize, plan, log }));
  }

  let exit = 0;
  const out = (l = '') => process.stdout.write(`${l}\n`);
  const a = results.get('undisturbed');
  for (const [label, r] of results) {
    out(`${label}: ${(r.durationMs / 1000).toFixed(1)} s (${r.date}), ${r.requests.filter((q) => q.status === 200).length} answers${r.serialize ? ', serialized' : ''}`);
    for (const k of r.kills.log) out(`  kill: ${k.line}`);
    for (const k of r.kills.recoveries) out(`  recovery: ${k}`);
    if (r.kills.missed.length) out(`  MISSED kills: ${r.kills.missed.join('; ')}`);
    if (r.kills.postponedWorkerKills) out(`  worker kills postponed ${r.kills.postponedWorkerKills}×200 ms past distil/train/deploy activities`);
    for (const l of r.vllm.restarts) out(`  vLLM: ${l}`);
  }
  for (const [label, r] of results) {
    if (!a || label === 'undisturbed') continue;
    const mode = label.startsWith('chaos') ? 'chaos' : 'reproducibility';
    const c = compareRealRuns(a, r, mode);
    out();
    out(`undisturbed vs ${label} (${mode}):`);
    for (const l of c.lines) out(`  ${l}`);
    const complete = r.kills.missed.length === 0;
    if (mode === 'chaos' && !complete) out('  DIFFERENT: not every planned kill was carried out');
    out(c.equal && complete ? 'EQUAL' : 'DIFFERENT');
    if (mode === 'chaos' && !(c.equal && complete)) exit = 1;
  }
  return exit;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos:real: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
