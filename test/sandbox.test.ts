import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxLimits } from '../core/env-spec';
import { ALLOW_WEAK_SANDBOX_ENV, detectIsolation, runAt, runSandboxed, type IsolationLevel, type SandboxResult } from '../envs/code/sandbox';

const isRoot = process.getuid?.() === 0;
const FAST = { wallMs: 3000, cpuSeconds: 2 };

function run(program: string, limits: SandboxLimits = FAST, level?: IsolationLevel): Promise<SandboxResult> {
  const req = { args: ['-I', '-c', program], limits };
  return level ? runAt(level, req) : runSandboxed(req);
}

/** Runs fn with the opt-in for weak isolation set (tests of what the weaker levels do). */
async function withWeakAllowed<T>(fn: () => Promise<T>): Promise<T> {
  const before = process.env[ALLOW_WEAK_SANDBOX_ENV];
  process.env[ALLOW_WEAK_SANDBOX_ENV] = '1';
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[ALLOW_WEAK_SANDBOX_ENV];
    else process.env[ALLOW_WEAK_SANDBOX_ENV] = before;
  }
}

function expectCleanedUp(r: SandboxResult): void {
  expect(existsSync(r.dir), `temp dir ${r.dir} removed`).toBe(false);
}

let level: IsolationLevel;
beforeAll(async () => {
  level = await detectIsolation();
  // Stated, not silently assumed: which protections the assertions below can count on.
  console.info(`sandbox isolation level on this machine: ${level}`);
});

describe('sandbox containment', () => {
  it('reports the isolation it used', async () => {
    const r = await run('print("hi")');
    expect(r.stdout).toBe('hi\n');
    expect(r.exitCode).toBe(0);
    expect(r.isolation.level).toBe(level);
    expectCleanedUp(r);
  });

  it('stops an infinite loop (CPU limit or wall clock)', async () => {
    const started = Date.now();
    const r = await run('while True:\n    pass', { wallMs: 2500, cpuSeconds: 1 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.exitCode === 0).toBe(false);
    // SIGXCPU shows up as a signal, or as 128+24 through bwrap/unshare; the wall clock as wallTimeout
    expect(r.wallTimeout || r.signal !== null || (r.exitCode ?? 0) > 128).toBe(true);
    expectCleanedUp(r);
  });

  it('kills a sleeping program at the wall-clock limit', async () => {
    const r = await run('import time\ntime.sleep(60)', { wallMs: 800, cpuSeconds: 5 });
    expect(r.wallTimeout).toBe(true);
    expectCleanedUp(r);
  });

  it('turns a memory hog into a MemoryError', async () => {
    const r = await run('x = bytearray(4 * 1024**3)\nprint(len(x))', { wallMs: 5000, cpuSeconds: 2, memoryMb: 256 });
    expect(r.stderr).toContain('MemoryError');
    expect(r.exitCode).toBe(1);
    expectCleanedUp(r);
  });

  it('caps 50 MB of output without buffering it', async () => {
    const r = await run('import sys\nb = "x" * (1024 * 1024)\nfor _ in range(50):\n    sys.stdout.write(b)\nsys.stdout.flush()', {
      ...FAST,
      wallMs: 10_000,
      outputBytes: 10_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.outputBytes).toBe(50 * 1024 * 1024);
    expect(r.outputTruncated).toBe(true);
    expect(r.stdout.length).toBe(10_000);
    expectCleanedUp(r);
  });

  it('contains a fork bomb', async (ctx) => {
    // Without a throwaway uid or a pid namespace only the wall clock stops a bomb, after it
    // has exhausted the machine's pids: not something to run in a test suite.
    const probe = await run('pass');
    if (!probe.isolation.unprivilegedUid && !probe.isolation.pidNamespace) return ctx.skip();
    const bomb = 'import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        break\nprint("fork refused", flush=True)\ntime.sleep(30)';
    const r = await run(bomb, { wallMs: 2500, cpuSeconds: 2 });
    expect(r.wallTimeout).toBe(true);
    if (r.isolation.unprivilegedUid) {
      // RLIMIT_NPROC on the throwaway uid refused further forks
      expect(r.stdout).toContain('fork refused');
    }
    expectCleanedUp(r);
    // and nothing is left running: a fresh sandbox can still fork
    const after = await run('import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nprint("ok")');
    expect(after.stdout).toBe('ok\n');
  });

  it('runs several sandboxes at once', async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => run(`import os\nos.fork() or os._exit(0)\nprint(${i})`)));
    rs.forEach((r, i) => expect(r.stdout).toBe(`${i}\n`));
  });
});

describe('writable space', () => {
  it('bwrap: /tmp and the working dir are size-limited (a program cannot fill host RAM or disk through them)', async (ctx) => {
    if (level !== 'bwrap') return ctx.skip(); // the weaker levels write to the host's temp dir (docs/sandbox.md)
    const program = [
      'import os',
      'for where in ("/tmp", "."):',
      '    written = 0',
      '    try:',
      '        for i in range(64):',
      '            with open(os.path.join(where, "f%d" % i), "wb") as f:',
      '                f.write(b"x" * (4 << 20))',
      '            written += 4',
      '    except OSError as e:',
      '        print(where, written, e.errno)',
      '    else:',
      '        print(where, written, "no limit")',
    ].join('\n');
    const r = await run(program, { wallMs: 10_000, cpuSeconds: 5 });
    const lines = r.stdout.trim().split('\n').map((l) => l.split(' '));
    expect(lines.map((l) => l[0]), r.stderr).toEqual(['/tmp', '.']);
    for (const [where, mib, errno] of lines) {
      expect(errno, `${where}: ${mib} MiB written`).toBe('28'); // ENOSPC
      expect(Number(mib), where).toBeLessThanOrEqual(32);
    }
    expectCleanedUp(r);
  });
});

describe('filesystem and network isolation', () => {
  let secretDir: string;
  let secret: string;
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    secretDir = mkdtempSync(join(tmpdir(), 'leafe-secret-'));
    secret = join(secretDir, 'secret.txt');
    writeFileSync(secret, 'TOP-SECRET-CONTENT');
    server = createServer((sock) => {
      connections++;
      sock.end('hello from the host');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    server.close();
    rmSync(secretDir, { recursive: true, force: true });
  });

  const levels: IsolationLevel[] = isRoot ? ['bwrap', 'unshare', 'setpriv', 'rlimit'] : ['bwrap', 'rlimit'];

  for (const lvl of levels) {
    it(`${lvl}: a file outside the temp dir is unreadable where the level allows it`, async (ctx) => {
      const r = await withWeakAllowed(() => run(`try:\n    print(open(${JSON.stringify(secret)}).read())\nexcept OSError as e:\n    print("refused", type(e).__name__)`, FAST, lvl)).catch(() => undefined);
      if (!r || (r.exitCode !== 0 && !r.stdout)) return ctx.skip(); // level not available here
      const protectedHere = r.isolation.filesystem || r.isolation.unprivilegedUid;
      if (protectedHere) {
        expect(r.stdout).toMatch(/^refused/);
        expect(r.stdout).not.toContain('TOP-SECRET');
      } else {
        // This level cannot enforce it, and says so.
        expect(r.isolation).toMatchObject({ filesystem: false, unprivilegedUid: false });
        expect(r.stdout).toContain('TOP-SECRET');
      }
      expectCleanedUp(r);
    });

    it(`${lvl}: a loopback server on the host is unreachable where the level allows it`, async (ctx) => {
      const before = connections;
      const r = await withWeakAllowed(() =>
        run(
          `import socket\ntry:\n    s = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\n    print("connected", s.recv(100).decode())\nexcept OSError as e:\n    print("refused", type(e).__name__)`,
          FAST,
          lvl,
        ),
      ).catch(() => undefined);
      if (!r || (r.exitCode !== 0 && !r.stdout)) return ctx.skip();
      if (r.isolation.network) {
        expect(r.stdout).toMatch(/^refused/);
        expect(connections).toBe(before);
      } else {
        expect(r.stdout).toContain('connected hello from the host');
      }
      expectCleanedUp(r);
    });
  }
});

describe('weak isolation needs an explicit opt-in', () => {
  const weak: IsolationLevel[] = isRoot ? ['unshare', 'setpriv', 'rlimit'] : ['rlimit'];
  for (const lvl of weak) {
    it(`${lvl}: refuses untrusted code without ${ALLOW_WEAK_SANDBOX_ENV}, naming bubblewrap and the opt-in`, async () => {
      expect(process.env[ALLOW_WEAK_SANDBOX_ENV]).toBeUndefined();
      const err = await run('print("ran")', FAST, lvl).then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(new RegExp(`refusing to run untrusted code at isolation level '${lvl}'`));
      expect(err?.message).toContain('apt-get install -y bubblewrap');
      expect(err?.message).toContain(`${ALLOW_WEAK_SANDBOX_ENV}=1`);
      const allowed = await withWeakAllowed(() => run('print("ran")', FAST, lvl));
      expect(allowed.stdout).toBe('ran\n');
      expect(allowed.isolation.level).toBe(lvl);
    });
  }

  it('unshare (opted in) does not hide the host: the temp dir is under the host /tmp and world-readable files are readable', async (ctx) => {
    if (!isRoot) return ctx.skip(); // unshare needs root
    const r = await withWeakAllowed(() => run('import os\nprint(os.getcwd())\nprint(open("/etc/passwd").read()[:4])', FAST, 'unshare'));
    expect(r.isolation.filesystem).toBe(false);
    expect(r.stdout).toBe(`${r.dir}\nroot\n`);
  });

  describe('in a worker process with another PATH', () => {
    let bin: string;
    beforeAll(() => {
      bin = mkdtempSync(join(tmpdir(), 'leafe-path-'));
      chmodSync(bin, 0o755);
    });
    afterAll(() => rmSync(bin, { recursive: true, force: true }));

    /** A PATH of symlinks to these tools only (no /usr/bin), plus `extra` files. */
    function pathDir(name: string, tools: string[], extra: Record<string, string> = {}): string {
      const dir = join(bin, name);
      execFileSync('mkdir', ['-p', '-m', '0755', dir]);
      for (const t of tools) symlinkSync(execFileSync('sh', ['-c', `command -v ${t}`]).toString().trim(), join(dir, t));
      for (const [file, text] of Object.entries(extra)) {
        writeFileSync(join(dir, file), text);
        chmodSync(join(dir, file), 0o755);
      }
      return dir;
    }

    function probeWith(env: Record<string, string>): Record<string, string> {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'support', 'sandbox-child.ts')], {
        env: { HOME: process.env.HOME ?? '/root', ...env },
        cwd: join(__dirname, '..'),
        timeout: 60_000,
      });
      return JSON.parse(out.toString()) as Record<string, string>;
    }

    const UTIL = ['prlimit', 'setpriv', 'unshare', 'kill'];

    it('without bwrap on PATH: says so, refuses, and runs at the weaker level only with the opt-in', () => {
      const path = pathDir('no-bwrap', UTIL);
      const refused = probeWith({ PATH: path });
      expect(refused.level).not.toBe('bwrap');
      expect(refused.describe).toMatch(/WEAK: code tasks are refused/);
      expect(refused.error).toContain('bwrap: not found on PATH');
      expect(refused.error).toContain('apt-get install -y bubblewrap');
      expect(refused.stdout).toBeUndefined();
      // A code session is refused at open, at once (not retried), with the same message.
      expect(refused.openError).toMatch(/^SandboxRefused nonRetryable=true: code sandbox: refusing to run untrusted code/);
      const allowed = probeWith({ PATH: path, [ALLOW_WEAK_SANDBOX_ENV]: '1' });
      expect(allowed.describe).toMatch(new RegExp(`WEAK, allowed by ${ALLOW_WEAK_SANDBOX_ENV}`));
      expect(allowed).toMatchObject({ stdout: 'ran\n', isolation: refused.level });
      expect(allowed.openError).toMatch(/cannot read tasks file '\/nonexistent.jsonl'/); // past the refusal
    });

    /** The first stderr line of a worker process that names the sandbox (it is then stopped). */
    async function workerSandboxLine(env: Record<string, string>): Promise<string> {
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'runtime', 'worker-main.ts'), '--queues', 'env', '--address', '127.0.0.1:1'], {
        env: { HOME: process.env.HOME ?? '/root', ...env },
        cwd: join(__dirname, '..'),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      try {
        return await new Promise<string>((resolveLine, reject) => {
          const timer = setTimeout(() => reject(new Error(`no sandbox line from the worker: ${err}`)), 60_000);
          child.stderr!.on('data', (d: Buffer) => {
            err += d.toString();
            const line = err.split('\n').find((l) => l.includes('sandbox'));
            if (line) {
              clearTimeout(timer);
              resolveLine(line);
            }
          });
          child.on('exit', () => setTimeout(() => reject(new Error(`worker exited: ${err}`)), 100));
        });
      } finally {
        child.kill('SIGKILL');
      }
    }

    it('a worker serving env queues prints the sandbox level at start, and whether code tasks are refused', async () => {
      const strong = await workerSandboxLine({ PATH: process.env.PATH ?? '' });
      expect(strong).toMatch(new RegExp(`^leafe worker \\d+: code sandbox isolation: ${level} \\(`));
      if (level === 'bwrap') expect(strong).not.toContain('WEAK');
      const weak = await workerSandboxLine({ PATH: pathDir('worker-no-bwrap', [...UTIL, 'node']) });
      expect(weak).toMatch(/code sandbox isolation: \w+ .*WEAK: code tasks are refused \(install bubblewrap or set LEAFE_ALLOW_WEAK_SANDBOX=1\)/);
    });

    it('uses the bwrap found on PATH, wherever it is', (ctx) => {
      const real = (() => {
        try {
          return execFileSync('sh', ['-c', 'command -v bwrap']).toString().trim();
        } catch {
          return '';
        }
      })();
      if (!real) return ctx.skip(); // no bubblewrap on this machine
      const marks = join(bin, 'marks');
      execFileSync('mkdir', ['-p', '-m', '0777', marks]);
      chmodSync(marks, 0o777); // the wrapper runs as the sandbox's throwaway uid
      const path = pathDir('own-bwrap', UTIL, { bwrap: `#!/bin/sh\ntouch ${marks}/used\nexec ${real} "$@"\n` });
      const r = probeWith({ PATH: path });
      expect(r).toMatchObject({ level: 'bwrap', isolation: 'bwrap', stdout: 'ran\n' });
      expect(r.openError).toMatch(/cannot read tasks file/); // not refused
      expect(existsSync(join(marks, 'used'))).toBe(true);
      expect(readFileSync(join(marks, 'used'), 'utf8')).toBe('');
    });
  });
});
