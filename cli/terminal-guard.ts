import { terminalSafe } from '../core/terminal-text';

/**
 * Everything the CLI prints goes through terminalSafe: trees, feedback, reflections, server
 * messages and failure causes all carry text a model or an environment wrote. Our own progress
 * bars draw with escape sequences, so they get the unfiltered stream (rawStderr).
 */
const originalStderrWrite = process.stderr.write.bind(process.stderr);

export function guardTerminalOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? terminalSafe(chunk) : chunk, ...rest)) as typeof stream.write;
  }
}

/** process.stderr with its original write: for cli-progress bars, whose escape sequences are ours. */
export const rawStderr: NodeJS.WriteStream = Object.create(process.stderr, {
  write: { value: originalStderrWrite },
}) as NodeJS.WriteStream;
