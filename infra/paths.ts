import path from 'node:path';

/** The project root (this file lives in <root>/infra). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Run directory: SQLite file, artifacts, reports, exported histories. Setting: LEAFE_RUN_DIR. */
export function defaultRunDir(): string {
  return path.resolve(process.env.LEAFE_RUN_DIR ?? '.leafe');
}

/** Where the provisioned temporal CLI is cached. Setting: LEAFE_CACHE_DIR. */
export function defaultCacheDir(): string {
  return path.resolve(process.env.LEAFE_CACHE_DIR ?? path.join(PROJECT_ROOT, '.leafe', 'cache'));
}

/** Shared data beside the project (../shared/data): read from there, never copied in. */
export const SHARED_DATA_DIR = path.resolve(process.env.LEAFE_SHARED_DATA ?? path.join(PROJECT_ROOT, '..', 'shared', 'data'));
export const HUMANEVAL_FILE = path.join(SHARED_DATA_DIR, 'HumanEval.jsonl.gz');

/**
 * `relativePath` (built from ids a user or a spec chose) resolved inside `runDir`, or an error
 * naming it: nothing derived from an id may be written outside the run directory.
 */
export function insideRunDir(runDir: string, relativePath: string): string {
  const root = path.resolve(runDir);
  const file = path.resolve(root, relativePath);
  if (path.isAbsolute(relativePath) || (file !== root && !file.startsWith(root + path.sep))) {
    throw new PathOutsideRunDirError(`path ${JSON.stringify(relativePath)} leaves the run directory ${root}; expected a path inside it (ids may not hold "..", "/" at the start, or an absolute path)`);
  }
  return file;
}

export class PathOutsideRunDirError extends Error {
  override name = 'PathOutsideRunDir';
}
