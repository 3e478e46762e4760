import type { EnvSpec } from '../core/env-spec';
import { loadCodeTasks } from '../envs/code/code-tasks';
import type { SimPolicy } from './policy';
import { createCodePolicy } from './policies/code-policy';
import { createSokobanPolicy } from './policies/sokoban-policy';

/** The scripted policies the simulator needs to play an environment. */
export async function simPoliciesFor(env: EnvSpec): Promise<SimPolicy[]> {
  switch (env.kind) {
    case 'code':
      return [createCodePolicy(await loadCodeTasks(env.tasks))];
    case 'sokoban':
      return [createSokobanPolicy()];
    case 'http':
      throw new Error(`env.kind: "http" has no simulator policy; expected --sim only with code or sokoban (point inference at a real model for AgentGym servers)`);
  }
}
