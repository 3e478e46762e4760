// The managed vLLM (runtime/vllm-server.ts) SIGKILLed after a LoRA adapter was hot-loaded: it is
// restarted and serves the adapter again, and no request for the adapter is refused meanwhile. A
// 404 ("model does not exist") is not retried (4xx), so one answered between the restart and the
// adapter's re-load would fail an evaluation that a restart is meant to survive.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, test } from 'vitest';
import { freePort } from '../../runtime/dev-server';
import { findRealEnv } from '../../runtime/real-model-env';
import { listServedModels, startVllmServer, type VllmServer } from '../../runtime/vllm-server';

let vllm: VllmServer | null = null;
afterAll(async () => {
  await vllm?.stop();
});

/** A small untrained LoRA adapter for the model (PEFT defaults: B = 0, so it answers like the base). */
function makeAdapter(python: string, modelDir: string, out: string): void {
  const code = [
    'import sys',
    'from transformers import AutoModelForCausalLM',
    'from peft import LoraConfig, get_peft_model',
    'm = AutoModelForCausalLM.from_pretrained(sys.argv[1])',
    'get_peft_model(m, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear")).save_pretrained(sys.argv[2])',
  ].join('\n');
  const r = spawnSync(python, ['-c', code, modelDir, out], { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' } });
  if (r.status !== 0) throw new Error(`making the adapter failed: ${r.stderr.slice(-2000)}`);
}

test('vLLM SIGKILLed after an adapter was hot-loaded: restarted with the adapter, no request refused', async () => {
  const real = findRealEnv();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-vllm-restart-'));
  const modelDir = real.modelDir('smollm2-135m-instruct');
  const adapter = path.join(dir, 'adapter');
  makeAdapter(real.python, modelDir, adapter);
  const lines: string[] = [];
  vllm = await startVllmServer({ env: real, modelDir, servedName: 'smollm2-135m-instruct', port: await freePort(), logFile: path.join(dir, 'vllm.log'), maxLoraRank: 16, log: (l) => lines.push(l) });
  const { baseUrl } = vllm;

  const load = await fetch(`${baseUrl}/load_lora_adapter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lora_name: 'probe-it1', lora_path: adapter }) });
  expect(load.status).toBe(200);
  // The manager learns loaded adapters from GET /v1/models; give it a moment to see this one.
  for (let i = 0; i < 100 && !vllm.adapters().has('probe-it1'); i++) await sleep(100);
  expect(vllm.adapters().get('probe-it1')).toBe(adapter);

  const pid = vllm.pid()!;
  process.kill(-pid, 'SIGKILL');
  // Ask for the adapter every 50 ms until it answers, as a retrying client would.
  const statuses: number[] = [];
  const deadline = Date.now() + 600_000;
  for (;;) {
    expect(Date.now()).toBeLessThan(deadline);
    try {
      const res = await fetch(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'probe-it1', messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 2, temperature: 0 }),
        signal: AbortSignal.timeout(30_000),
      });
      statuses.push(res.status);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  expect(vllm.pid()).not.toBe(pid);
  expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  expect((await listServedModels(baseUrl)).map((m) => m.id)).toContain('probe-it1');
});
