import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_RETENTION, startDevServer } from '../infra/dev-server';
import { defaultRunDir } from '../infra/paths';
import { resolveTemporalCli } from '../infra/temporal-cli';

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
      const cli = resolveTemporalCli();
      const dbFile = path.resolve(opts.dbFile ?? path.join(opts.runDir, 'temporal.sqlite'));
      const server = await startDevServer({
        cli,
        dbFile,
        ip: opts.ip,
        port: parsePort('--port', opts.port),
        uiPort: parsePort('--ui-port', opts.uiPort),
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
      const stop = () => {
        void server.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
    });
}

function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${flag}: ${JSON.stringify(value)} is not a port; expected an integer 1-65535`);
  return n;
}
