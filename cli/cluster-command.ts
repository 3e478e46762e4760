import type { Command } from 'commander';
import { clusterDown, clusterRunning, clusterStateDir, clusterUp, CLUSTER } from '../runtime/temporal-cluster';

/** `leafe cluster up|down|status`: Temporal Server on PostgreSQL on this machine (docs/deploy.md). */
export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('a local Temporal Server on PostgreSQL (8 history shards, Web UI), for per-queue worker processes');
  cluster
    .command('up')
    .description(`build (once) and start PostgreSQL, Temporal Server ${CLUSTER.frontend} and the Web UI on loopback`)
    .action(async () => {
      const { address, uiUrl } = await clusterUp();
      process.stdout.write(`${address}\n`);
      process.stderr.write(`leafe: Web UI ${uiUrl}\n`);
    });
  cluster
    .command('down')
    .description('stop the cluster; --wipe also deletes its database (every workflow)')
    .option('--wipe', 'delete the PostgreSQL data and logs')
    .action(async (opts) => clusterDown({ wipe: Boolean(opts.wipe) }));
  cluster
    .command('status')
    .description('which cluster processes run')
    .action(() => {
      const running = clusterRunning();
      process.stdout.write(`${JSON.stringify({ ...running, address: CLUSTER.frontend, state: clusterStateDir() })}\n`);
      if (!running.server || !running.postgres) process.exitCode = 3;
    });
}
