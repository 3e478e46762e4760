/**
 * One code task as an Environment: reset shows the statement, each step runs the answer's
 * program against all tests. Steps do not change state (every attempt is judged alone), so
 * replay is trivially deterministic as long as the feedback is.
 */
import type { SandboxLimits } from '../../core/env-spec';
import type { Environment, StepResult } from '../../contract/environment-port';
import type { CodeTask } from './code-tasks';
import { extractProgram } from './extract-program';
import { fillTemplate } from '../../core/templates';
import { codeTemplates as t } from './feedback-templates';
import { formatFeedback } from './format-feedback';
import { runTests, type TestRun } from './run-tests';
import { DEFAULT_LIMITS } from './sandbox';

export interface CodeEnvironmentOptions {
  limits?: SandboxLimits;
  /** Feedback longer than this is cut (default 2000 characters). */
  feedbackChars?: number;
}

export class CodeEnvironment implements Environment {
  /** The last run, for callers that want the details (isolation level, per-test outcomes). */
  lastRun?: TestRun;

  constructor(
    readonly task: CodeTask,
    private readonly options: CodeEnvironmentOptions = {},
  ) {}

  async reset(): Promise<string> {
    this.lastRun = undefined;
    return this.task.statement;
  }

  async step(action: string): Promise<StepResult> {
    const program = extractProgram(action);
    if (!program.trim()) {
      return { observation: fillTemplate(t.summary, { passed: 0, total: 0 }), feedback: t.noProgram, reward: 0, done: false, success: false };
    }
    const limits = { ...DEFAULT_LIMITS, ...this.options.limits };
    const run = await runTests(this.task, program, { limits });
    this.lastRun = run;
    const success = run.total > 0 && run.passed === run.total && !run.load && !run.killed;
    return {
      observation: fillTemplate(t.summary, { passed: run.passed, total: run.total }),
      feedback: formatFeedback(run, limits, this.options.feedbackChars),
      reward: run.total > 0 ? run.passed / run.total : 0,
      done: success,
      success,
    };
  }

  async close(): Promise<void> {}
}
