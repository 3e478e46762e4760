import type { ExperimentConfig } from './experiment-config';

/**
 * What an experiment's recorded stage results depend on. A re-run under the same experiment id
 * reuses every finished stage (that is how a crashed experiment resumes), so the id is bound to
 * these fields: a run with other values under the same id is refused (cli/study.ts).
 * Left out, because they change how the work runs but not what it computes: the study name,
 * runDir, iterations (later iterations only add stages), concurrency, timeouts, the inference
 * and deploy endpoints and API-key variable names (the simulator's port changes every run), the
 * request timeout and which workers send requests, and a command trainer's process environment
 * (it holds PATH). `trainerIdentity` stands for a trainer whose command leafe builds (the
 * simulated trainer: spec/sim-trainer.ts), which holds this machine's paths.
 */
export function resultDefiningSpec(config: ExperimentConfig, simulator: { seed?: number; skill?: unknown } | null, trainerIdentity: Record<string, unknown> | null = null): Record<string, unknown> {
  const { baseUrl: _b, apiKeyEnv: _k, timeoutMs: _t, requestsFrom: _r, ...inference } = config.inference;
  const { baseUrl: _db, ...deploy } = config.deploy;
  const trainer = trainerIdentity ?? { ...config.trainer, env: undefined };
  return {
    env: config.env,
    tasks: { train: config.trainTasks, eval: config.evalTasks },
    inference,
    leafe: config.leafe,
    distil: config.distil,
    trainer,
    deploy: { ...deploy, apiKeyEnv: undefined },
    evaluation: config.evaluation,
    seed: config.seed,
    ...(simulator ? { simulator: { seed: simulator.seed ?? config.seed, skill: simulator.skill } } : {}),
  };
}

/** JSON with object keys sorted and undefined fields dropped: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `${v.length} item${v.length === 1 ? '' : 's'}`;
  const s = canonicalJson(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Where two specs differ, as `field (old → new)`, down to the second level (`leafe.budget (6 → 12)`). */
export function specDifferences(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  const keys = (a: Record<string, unknown>, b: Record<string, unknown>) => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys(before, after)) {
    const a = before[key];
    const b = after[key];
    if (canonicalJson(a) === canonicalJson(b)) continue;
    if (isObject(a) && isObject(b)) {
      for (const sub of keys(a, b)) if (canonicalJson(a[sub]) !== canonicalJson(b[sub])) out.push(`${key}.${sub} (${show(a[sub])} → ${show(b[sub])})`);
    } else out.push(`${key} (${show(a)} → ${show(b)})`);
  }
  return out;
}
