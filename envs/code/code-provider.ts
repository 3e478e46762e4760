import type { CodeEnvSpec } from '../../core/env-spec';
import type { Environment, EnvironmentProvider } from '../../contract/environment-port';
import { CodeEnvironment, type CodeEnvironmentOptions } from './code-environment';
import { loadCodeTasks } from './code-tasks';
import { codeTemplates } from './feedback-templates';
import { assertIsolationAllowed, detectIsolation } from './sandbox';

/** Code tasks (HumanEval/MBPP) from spec.tasks; the seed is unused: runs are deterministic. */
export function createCodeProvider(spec: CodeEnvSpec, options: Omit<CodeEnvironmentOptions, 'limits'> = {}): EnvironmentProvider {
  return {
    kind: 'code',
    async listTasks(limit?: number): Promise<string[]> {
      const ids = (await loadCodeTasks(spec.tasks)).map((task) => task.id);
      return limit === undefined ? ids : ids.slice(0, limit);
    },
    async open(taskId: string, _seed: number): Promise<Environment> {
      // Refused here, before any step, when the sandbox is weak and not opted into.
      assertIsolationAllowed(await detectIsolation());
      const tasks = await loadCodeTasks(spec.tasks);
      const task = tasks.find((x) => x.id === taskId);
      if (!task) {
        const sample = tasks.slice(0, 3).map((x) => x.id).join(', ');
        throw new Error(`code environment: taskId '${taskId}' is not in '${spec.tasks}' (${tasks.length} tasks, e.g. ${sample})`);
      }
      return new CodeEnvironment(task, { ...options, limits: spec.sandbox });
    },
    instructions(): string {
      return codeTemplates.instructions;
    },
    isolation: () => detectIsolation(),
  };
}
