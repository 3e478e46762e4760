// The `leafe` command line. Each subcommand lives in its own file under cli/.
import { Command } from 'commander';
import { registerArchiveCommand } from './archive-command';
import { registerClusterCommand } from './cluster-command';
import { registerControlCommands } from './control-command';
import { registerDemoCommand } from './demo-command';
import { registerExploreCommand } from './explore-command';
import { failureText } from './failure-cause';
import { registerReportCommand } from './report-command';
import { registerRunCommand } from './run-command';
import { registerSchemaCommand } from './schema-command';
import { registerRunsCommand } from './runs-command';
import { registerServerCommand } from './server-command';
import { registerSetupCommand } from './setup-command';
import { registerStatusCommand } from './status-command';
import { registerTraceCommand } from './trace-command';
import { registerTreeCommand } from './tree-command';
import { guardTerminalOutput } from './terminal-guard';

guardTerminalOutput();

const program = new Command('leafe').description('Durable LEAFE experiments on Temporal').showHelpAfterError();
registerServerCommand(program);
registerClusterCommand(program);
registerExploreCommand(program);
registerRunCommand(program);
registerDemoCommand(program);
registerReportCommand(program);
registerRunsCommand(program);
registerStatusCommand(program);
registerControlCommands(program);
registerTreeCommand(program);
registerTraceCommand(program);
registerArchiveCommand(program);
registerSchemaCommand(program);
registerSetupCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // A failed workflow prints its root cause (the server's message), not "Workflow execution failed".
  process.stderr.write(`leafe: ${failureText(err)}\n`);
  process.exit(1);
});
