import type { HttpEnvSpec } from '../../core/env-spec';
import type { Environment, EnvironmentProvider } from '../../contract/environment-port';
import { AgentGymClient, type AgentGymClientOptions } from './agentgym-client';
import { dialectFor } from './agentgym-dialects';
import { HttpEnvironment, type HttpEnvironmentOptions } from './http-environment';
import { httpTemplates } from './http-templates';

export type HttpProviderOptions = AgentGymClientOptions & HttpEnvironmentOptions;

/**
 * Environments served by an AgentGym server. Task ids are AgentGym data indices as
 * strings. The seed is not sent: AgentGym tasks are fixed by their index (babyai derives
 * its seed from it), which is what makes reset + replay deterministic.
 */
export function createHttpProvider(spec: HttpEnvSpec, options: HttpProviderOptions = {}): EnvironmentProvider {
  const dialect = dialectFor(spec.env);
  const client = new AgentGymClient(spec.baseUrl, dialect, options);
  const tasks = taskList(spec);
  return {
    kind: 'http',
    async listTasks(limit?: number): Promise<string[]> {
      return limit === undefined ? [...tasks] : tasks.slice(0, Math.max(0, limit));
    },
    async open(taskId: string, _seed: number): Promise<Environment> {
      const index = Number(taskId);
      if (!/^\d+$/.test(taskId) || !Number.isSafeInteger(index)) {
        throw new Error(`http environment open: taskId is ${JSON.stringify(taskId)}, expected a non-negative integer (an AgentGym data index)`);
      }
      // Fail here, with the URL, rather than on the first step.
      await client.ensureHealthy();
      return new HttpEnvironment(client, index, options);
    },
    instructions(): string {
      const hint = httpTemplates.envHints[dialect.name];
      return hint ? `${httpTemplates.instructions}\n${hint}` : httpTemplates.instructions;
    },
  };
}

function taskList(spec: HttpEnvSpec): string[] {
  if (spec.taskIds !== undefined) {
    const bad = spec.taskIds.find((id) => !Number.isSafeInteger(id) || id < 0);
    if (bad !== undefined) {
      throw new Error(`http env spec: field "taskIds" contains ${JSON.stringify(bad)}, expected non-negative integers (AgentGym data indices)`);
    }
    return spec.taskIds.map(String);
  }
  if (spec.count === undefined || !Number.isSafeInteger(spec.count) || spec.count < 1) {
    throw new Error(`http env spec: field "count" is ${JSON.stringify(spec.count)} and "taskIds" is absent, expected a positive integer count or a list of taskIds`);
  }
  return Array.from({ length: spec.count }, (_, i) => String(i));
}
