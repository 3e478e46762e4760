import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Go 1.27.3, fetched by the go command itself from the Go module proxy (about 76 MB, once per
 * machine): Temporal Server 1.32 needs a newer Go than the one installed here (1.26.8), and a
 * machine starts on its own Go whatever go.mod says, so every build sets GOTOOLCHAIN explicitly.
 */
export const GO_TOOLCHAIN = 'go1.27.3';

/** Built binaries live outside the clone, keyed by module version: every clone and CI reuse them. */
export function goBinaryCacheDir(): string {
  return path.resolve(process.env.LEAFE_GO_BIN_CACHE ?? path.join(os.homedir(), '.cache', 'leafe', 'go-bin'));
}

export interface GoBinary {
  /** Module path of the main package, e.g. go.temporal.io/server/cmd/server. */
  pkg: string;
  version: string;
  /** Name to give the binary in the cache (go install names it after the package's last element). */
  name: string;
}

/** The binary's cached path, building it with `go install` first if missing (minutes, once). */
export function ensureGoBinary(bin: GoBinary, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const dir = path.join(goBinaryCacheDir(), `${bin.name}-${bin.version}`);
  const target = path.join(dir, bin.name);
  if (existsSync(target)) return target;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error(`building ${bin.pkg}@${bin.version} needs the go command on PATH (any Go ≥ 1.21; it fetches ${GO_TOOLCHAIN} itself): ${go.error?.message ?? go.stderr.trim()}`);
  }
  log(`leafe: building ${bin.pkg}@${bin.version} with ${GO_TOOLCHAIN} into ${dir} (several minutes, once per machine)`);
  const staging = `${dir}.building`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  const built = spawnSync('go', ['install', `${bin.pkg}@${bin.version}`], {
    env: { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: staging, CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (built.status !== 0) throw new Error(`go install ${bin.pkg}@${bin.version} failed (exit ${built.status}); see the go output above`);
  renameSync(path.join(staging, path.basename(bin.pkg)), path.join(staging, bin.name));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  log(`leafe: built ${bin.name} ${bin.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  return target;
}

/** The module's source folder in Go's module cache (the server's SQL schema files live there). */
export function goModuleDir(module: string, version: string): string {
  const out = spawnSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
    encoding: 'utf8',
    cwd: os.tmpdir(),
    env: { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN },
  });
  if (out.status !== 0) throw new Error(`go mod download ${module}@${version} failed: ${out.stderr.trim() || out.stdout.trim()}`);
  return (JSON.parse(out.stdout) as { Dir: string }).Dir;
}
