import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_RETENTION, isListening, startDevServer } from '../runtime/dev-server';
import { defaultRunDir } from '../infra/paths';
import { resolveTemporalCli } from '../runtime/temporal-cli';

/** `leafe server`: a local Temporal dev server on the run directory's SQLite file, in the foreground. */
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('start a local Temporal dev server (SQLite under the run dir, Web UI, search attributes, long retention)')
    .option('--run-dir <dir>', 'run directory', defaultRunDir())
    .option('--db-file <file>', 'SQLite file (default: <run-dir>/temporal.sqlite)')
    .option('--ip <ip>', 'address to bind', 'localhost')
    .option('--port <port>', 'gRPC port', '7233')
    .option('--ui-port <port>', 'Web UI port', '8233')
    .option('--retention <duration>', 'closed-workflow retention', DEFAULT_RETENTION)
    .action(async (opts) => {
      const port = parsePort('--port', opts.port);
      const uiPort = parsePort('--ui-port', opts.uiPort);
      // Something else on the port (often another dev server) would answer in our place while
      // ours exits at once: refuse before starting instead of reporting a server that is not ours.
      for (const [flag, p] of [['--port', port], ['--ui-port', uiPort]] as const) {
        if (await isListening(`${opts.ip}:${p}`)) {
          throw new Error(`${flag}: port ${p} on ${opts.ip} is already in use (another Temporal server or program); expected a free port — stop that program or pass another ${flag}`);
        }
      }
      const cli = resolveTemporalCli();
      const dbFile = path.resolve(opts.dbFile ?? path.join(opts.runDir, 'temporal.sqlite'));
      const server = await startDevServer({
        cli,
        dbFile,
        ip: opts.ip,
        port,
        uiPort,
        retention: opts.retention,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(
        [
          `Temporal dev server running at ${server.address} (namespace ${server.namespace}, retention ${opts.retention})`,
          `Web UI: ${server.uiUrl}`,
          `Data: ${dbFile} (restart on the same file to keep every workflow)`,
          `Try: ${cli} workflow list --address ${server.address}`,
          'Press Ctrl-C to stop.',
        ].join('\n') + '\n',
      );
      let stopping = false;
      const stop = () => {
        stopping = true;
        void server.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const child = server.process;
      const code = child.exitCode ?? child.signalCode ?? (await new Promise<number | string | null>((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal))));
      if (!stopping) throw new Error(`Temporal dev server on ${server.address} exited by itself (${code}); see ${dbFile}.server.log`);
    });
}

function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${flag}: ${JSON.stringify(value)} is not a port; expected an integer 1-65535`);
  return n;
}
