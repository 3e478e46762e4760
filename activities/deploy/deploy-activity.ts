import type { DeployActivities, DeployInput, DeployResult } from '../../contract/deploy-activities';

/**
 * Deploy: hot-load the trained adapter into the inference server, through the loader the worker
 * injects (inference/lora-deploy.ts: vLLM's runtime LoRA loading; the simulator speaks the same).
 */
export function createDeployActivities(deps: { loadAdapter: (input: DeployInput) => Promise<DeployResult> }): DeployActivities {
  return {
    async deployAdapter(input: DeployInput): Promise<DeployResult> {
      return deps.loadAdapter(input);
    },
  };
}
