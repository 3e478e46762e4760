import { freePort, startDevServer, type DevServer, type DevServerOptions } from './dev-server';
import { exited, killOnExit } from './worker-process';

/**
 * A dev server on one SQLite file and one port, so it can be SIGKILLed and restarted in place
 * (the chaos runs) and is found again at the same address.
 */
export class DevServerProcess {
  private server: DevServer | null = null;
  /** Starts, including restarts. */
  starts = 0;

  private constructor(private readonly options: DevServerOptions & { port: number }) {}

  /** Starts it (on a free port unless `port` is given). */
  static async start(options: DevServerOptions): Promise<DevServerProcess> {
    const p = new DevServerProcess({ ...options, port: options.port ?? (await freePort()) });
    await p.start();
    return p;
  }

  get address(): string {
    return `${this.options.ip ?? '127.0.0.1'}:${this.options.port}`;
  }

  get namespace(): string {
    return this.options.namespace ?? 'default';
  }

  get uiUrl(): string | null {
    return this.server?.uiUrl ?? null;
  }

  get pid(): number | undefined {
    return this.server?.process.pid;
  }

  async start(): Promise<void> {
    this.server = await startDevServer(this.options);
    killOnExit(this.server.process);
    this.starts++;
  }

  async sigkill(): Promise<void> {
    const child = this.server?.process;
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
    if (child.signalCode !== 'SIGKILL') throw new Error(`dev server ${child.pid} ended with ${child.signalCode ?? child.exitCode}, not SIGKILL`);
    this.server = null;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = null;
  }
}
