// The managed vLLM's command line (runtime/vllm-server.ts): adapters to re-load after a restart go
// after the module (`python -m vllm... --lora-modules name=path`); before `-m` Python itself
// rejects them ("unknown option --lora-modules") and the restart never comes up.
import { expect, test } from 'vitest';
import { vllmArgs } from '../runtime/vllm-server';

const base = { modelDir: '/m', servedName: 'smol', host: '127.0.0.1', port: 8130, maxLoraRank: 16, maxModelLen: 2048, device: 'cpu' as const };

test('no adapters: no --lora-modules', () => {
  const args = vllmArgs(base);
  expect(args.slice(0, 2)).toEqual(['-m', 'vllm.entrypoints.openai.api_server']);
  expect(args).not.toContain('--lora-modules');
});

test('adapters to re-load: --lora-modules name=path ..., after the module', () => {
  const args = vllmArgs({ ...base, loraModules: new Map([['exp-leafe-it1', '/run/a1'], ['exp-leafe-it2', '/run/a2']]) });
  expect(args.slice(0, 2)).toEqual(['-m', 'vllm.entrypoints.openai.api_server']);
  expect(args.slice(-3)).toEqual(['--lora-modules', 'exp-leafe-it1=/run/a1', 'exp-leafe-it2=/run/a2']);
});
