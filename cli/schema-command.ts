import type { Command } from 'commander';
import { experimentSpecJsonSchema } from '../spec/json-schema';

/** `leafe schema`: prints the JSON Schema of experiment specs (docs/experiment-spec.schema.json is this output). */
export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of experiment specs (for editors)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(experimentSpecJsonSchema(), null, 2)}\n`);
    });
}
