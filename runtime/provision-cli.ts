// `npm run provision`: resolve (or build) the pinned Temporal CLI and print its path.
import { resolveTemporalCli, TemporalCliUnavailableError } from './temporal-cli';

try {
  const started = Date.now();
  const cli = resolveTemporalCli();
  process.stderr.write(`leafe: Temporal CLI ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${cli}\n`);
} catch (err) {
  if (err instanceof TemporalCliUnavailableError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
