import { ApplicationFailure } from '@temporalio/activity';
import type { DeployConfig } from '../../core/experiment-config';
import { apiKeyFor } from '../inference/inference-keys';
import { isRequestRejected } from '../inference/openai-errors';
import { DEPLOY_REJECTED } from '../../core/failure-types';

export interface DeployInput {
  deploy: DeployConfig;
  /** Unique per experiment and iteration: adapter names are never reused (stale adapters are a known failure). */
  adapterName: string;
  adapterPath: string;
}

async function listModels(baseUrl: string, headers: Record<string, string>): Promise<Array<{ id: string; root?: string }>> {
  const res = await fetch(`${baseUrl}/models`, { headers });
  if (!res.ok) throw new Error(`GET ${baseUrl}/models answered HTTP ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data?: Array<{ id: string; root?: string }> };
  return body.data ?? [];
}

/**
 * Deploy: hot-load the trained LoRA adapter into the running vLLM server
 * (`POST /v1/load_lora_adapter`, server started with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) and
 * confirm it in `GET /v1/models`. Idempotent: a retry after a lost response finds it loaded.
 */
export function createDeployActivities() {
  return {
    async deployAdapter(input: DeployInput): Promise<{ model: string }> {
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
    },
  };
}

export type DeployActivities = ReturnType<typeof createDeployActivities>;
