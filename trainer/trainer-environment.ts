/**
 * The environment a trainer command starts with. A spec names the command, so whoever writes a
 * spec runs code on the train worker: it must not see the worker's secrets (inference keys,
 * cloud credentials). An allowlist, not a denylist: only what a Python trainer needs to find its
 * interpreter, libraries, devices and caches comes from the worker; the spec's own `trainer.env`
 * is added on top; an operator passes more by name in LEAFE_TRAINER_PASS_ENV (set on the worker,
 * never by a spec).
 */
export const TRAINER_PASS_ENV = 'LEAFE_TRAINER_PASS_ENV';

const PASSED_NAMES = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TERM',
  'TMPDIR', 'TMP', 'TEMP',
  'LD_LIBRARY_PATH', 'PYTHONPATH', 'PYTHONHASHSEED', 'VIRTUAL_ENV', 'CONDA_PREFIX',
  'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'TOKENIZERS_PARALLELISM',
  'CUDA_VISIBLE_DEVICES', 'CUDA_HOME', 'NVIDIA_VISIBLE_DEVICES', 'HIP_VISIBLE_DEVICES', 'ROCR_VISIBLE_DEVICES',
  'HF_HOME', 'HF_HUB_CACHE', 'HF_DATASETS_CACHE', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_DATASETS_OFFLINE',
  'TORCH_HOME', 'XDG_CACHE_HOME', 'PIP_CACHE_DIR',
]);
/** Prefixes of variables that carry locale and device settings, never credentials. */
const PASSED_PREFIXES = ['LC_', 'NCCL_', 'CUDA_', 'XDG_'];
/** Never passed whatever the name's shape: an allowlisted prefix must not carry a credential. */
const SECRET_SHAPE = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** The trainer's environment: the allowlisted part of the worker's, then what the spec sets. */
export function trainerEnvironment(workerEnv: NodeJS.ProcessEnv, specEnv: Record<string, string> = {}): Record<string, string> {
  const extra = new Set((workerEnv[TRAINER_PASS_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(workerEnv)) {
    if (value === undefined) continue;
    const allowed = extra.has(name) || ((PASSED_NAMES.has(name) || PASSED_PREFIXES.some((p) => name.startsWith(p))) && !SECRET_SHAPE.test(name));
    if (allowed) env[name] = value;
  }
  return { ...env, ...specEnv };
}
