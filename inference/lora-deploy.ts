import { ApplicationFailure } from '@temporalio/activity';
import type { DeployInput, DeployResult } from '../contract/deploy-activities';
import { apiKeyFor } from './inference-keys';
import { isRequestRejected } from './openai-errors';
import { DEPLOY_REJECTED } from '../contract/failure-types';

async function listModels(baseUrl: string, headers: Record<string, string>): Promise<Array<{ id: string; root?: string }>> {
  const res = await fetch(`${baseUrl}/models`, { headers });
  if (!res.ok) throw new Error(`GET ${baseUrl}/models answered HTTP ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data?: Array<{ id: string; root?: string }> };
  return body.data ?? [];
}

/**
 * Hot-loads the trained LoRA adapter into the running vLLM server
 * (`POST /v1/load_lora_adapter`, server started with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) and
 * confirms it in `GET /v1/models`. Idempotent: a retry after a lost response finds it loaded.
 */
export async function loadLoraAdapter(input: DeployInput): Promise<DeployResult> {
  const { baseUrl } = input.deploy;
  const apiKeyEnv = input.deploy.kind === 'vllm-lora' ? input.deploy.apiKeyEnv : undefined;
  // Only a key this worker's owner listed for this URL (inference-keys.ts); refused otherwise.
  const apiKey = apiKeyFor({ baseUrl, apiKeyEnv, field: 'deploy.apiKeyEnv' });
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
  const loaded = (await listModels(baseUrl, headers)).find((m) => m.id === input.adapterName);
  if (loaded) return { model: input.adapterName };

  const res = await fetch(`${baseUrl}/load_lora_adapter`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ lora_name: input.adapterName, lora_path: input.adapterPath }),
  });
  const text = await res.text();
  if (!res.ok && !/already been loaded/i.test(text)) {
    const message = `POST ${baseUrl}/load_lora_adapter {lora_name: ${JSON.stringify(input.adapterName)}, lora_path: ${JSON.stringify(input.adapterPath)}} answered HTTP ${res.status}: ${text.slice(0, 500)}`;
    if (isRequestRejected(res.status)) throw ApplicationFailure.nonRetryable(message, DEPLOY_REJECTED);
    throw new Error(message);
  }
  if (!(await listModels(baseUrl, headers)).some((m) => m.id === input.adapterName)) {
    throw new Error(`adapter ${JSON.stringify(input.adapterName)} was accepted by ${baseUrl}/load_lora_adapter but is not listed in GET ${baseUrl}/models`);
  }
  return { model: input.adapterName };
}
