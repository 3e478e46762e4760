import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { defaultCacheDir } from './paths';

/** The pinned CLI: later tags carry a `replace` directive and cannot be `go install`ed. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export interface ResolveCliOptions {
  /** Explicit binary (a setting); wins over everything else. */
  explicitPath?: string;
  cacheDir?: string;
  /** Print progress (default: to stderr). */
  log?: (line: string) => void;
}

export class TemporalCliUnavailableError extends Error {}

function isExecutable(file: string): boolean {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

function onPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'temporal');
    if (existsSync(candidate) && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds the `temporal` CLI: explicit setting / LEAFE_TEMPORAL_CLI, then PATH, then the project
 * cache; if none, builds the pinned version into the cache with `go install` (GOBIN). Nothing
 * is downloaded from anywhere but the Go module proxy.
 */
export function resolveTemporalCli(options: ResolveCliOptions = {}): string {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const explicit = options.explicitPath ?? process.env.LEAFE_TEMPORAL_CLI;
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new TemporalCliUnavailableError(
        `LEAFE_TEMPORAL_CLI: ${JSON.stringify(explicit)} is not an executable temporal CLI (\`${explicit} --version\` failed); expected the path of a temporal binary`,
      );
    }
    return explicit;
  }
  const fromPath = onPath();
  if (fromPath) return fromPath;

  const binDir = path.join(options.cacheDir ?? defaultCacheDir(), 'bin');
  const cached = path.join(binDir, 'temporal');
  if (existsSync(cached) && isExecutable(cached)) return cached;

  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new TemporalCliUnavailableError(
      [
        'The Temporal CLI was not found and cannot be built: Go is not installed.',
        'Fix it in one of two ways:',
        '  1. point leafe at an existing binary: export LEAFE_TEMPORAL_CLI=/path/to/temporal (or put `temporal` on PATH), or',
        `  2. install Go 1.25+ and run again; leafe then builds it with: go install ${TEMPORAL_CLI_MODULE}`,
      ].join('\n'),
    );
  }
  mkdirSync(binDir, { recursive: true });
  log(`leafe: building the Temporal CLI (${TEMPORAL_CLI_MODULE}) into ${binDir}; the first build takes a few minutes...`);
  const started = Date.now();
  const build = spawnSync('go', ['install', TEMPORAL_CLI_MODULE], {
    env: { ...process.env, GOBIN: binDir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0 || !existsSync(cached)) {
    throw new TemporalCliUnavailableError(
      `go install ${TEMPORAL_CLI_MODULE} failed (exit ${build.status}); set LEAFE_TEMPORAL_CLI to an existing temporal binary instead`,
    );
  }
  log(`leafe: Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s: ${cached}`);
  return cached;
}
