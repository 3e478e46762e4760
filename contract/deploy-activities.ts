import type { DeployConfig } from './experiment-config';

/** Deploy (llm queue): hot-load the trained LoRA adapter into the inference server. Idempotent. */
export interface DeployActivities {
  deployAdapter(input: DeployInput): Promise<DeployResult>;
}

export interface DeployInput {
  deploy: DeployConfig;
  /** Unique per experiment and iteration: adapter names are never reused (stale adapters are a known failure). */
  adapterName: string;
  adapterPath: string;
}

export interface DeployResult {
  /** The model name that now serves the adapter. */
  model: string;
}
