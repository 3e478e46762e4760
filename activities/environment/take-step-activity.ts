import { ApplicationFailure, Context } from '@temporalio/activity';
import { outcomeAfterStep, planReflection } from '../../core/branch-decisions';
import type { OpenEnvironmentResult, TakeStepInput, TakeStepResult } from '../../contract/environment-activities';
import type { ReflectResult } from '../../contract/inference-activities';
import type { Completion, InferenceClient, ReflectionCompletion } from '../../contract/inference-port';
import type { ArtifactStore } from '../../infra/artifact-store';
import type { CompletionJournal } from '../inference/completion-journal';
import type { LimitFunction } from 'p-limit';
import type { SessionRegistry } from './session-registry';
import { loadTrajectory } from './trajectory';
import { INCONSISTENT_STEP } from '../../contract/failure-types';

/**
 * One environment step as one activity on the worker holding the session: ask the model for
 * a_t, take it, and reflect when the branch's decision function says so. One activity (and one
 * workflow task) per step instead of two or three halves the orchestration cost per step
 * (docs/benchmarks.md). Every completion goes to the journal before the environment is
 * touched, so a retry (a 500 during the reflection, a lost worker) never asks a completed
 * request again, and a retry of a step already taken returns that step's outcome.
 */
export function createTakeStepActivity(deps: {
  store: ArtifactStore;
  /** This worker's own queue, returned when takeStep opens the session. */
  sessionQueue: string;
  sessions: SessionRegistry;
  inference: InferenceClient;
  journal: CompletionJournal;
  llmLimiter: LimitFunction;
}) {
  return async function takeStep(input: TakeStepInput): Promise<TakeStepResult> {
    const ctx = Context.current();
    const workflowId = ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId;
    const signal = ctx.cancellationSignal;
    const beat = setInterval(() => ctx.heartbeat({ t: input.t }), 2000);
    let opened: OpenEnvironmentResult | undefined;
    try {
      const { inference: s } = input;
      let before: string;
      if (input.open) {
        if (input.open.replay.length !== input.t - 1) throw ApplicationFailure.nonRetryable(`takeStep: step ${input.t} cannot follow a replay of ${input.open.replay.length} actions`, INCONSISTENT_STEP);
        opened = await deps.sessions.openFor({ ...input.open, sessionId: input.sessionId }, deps.sessionQueue);
        before = opened.trajectoryRef;
      } else {
        if (input.trajectoryRef === null) throw ApplicationFailure.nonRetryable('takeStep: trajectoryRef is null and there is no session to open', INCONSISTENT_STEP);
        // A lost session is reported before the model is asked: the workflow re-opens it sooner.
        deps.sessions.expectStep(input.sessionId, input.t);
        before = input.trajectoryRef;
      }
      let reused = 0;
      const acted = await deps.journal.once<Completion>(
        { workflowId, t: input.t, kind: 'act', seed: input.actSeed, trajectoryRef: before, experience: input.experience, model: s.model },
        async () => {
          const trajectory = await loadTrajectory(deps.store, before);
          return deps.llmLimiter(() => deps.inference.act(s, trajectory, input.experience, input.actSeed, signal));
        },
      );
      if (acted.reused) reused++;
      const outcome = await deps.sessions.step(input.sessionId, acted.completion.content, input.t);

      const plan = outcome.success ? null : planReflection({ ...input.decision, failed: outcome.failed, done: outcome.done });
      let reflection: ReflectResult | null = null;
      if (plan?.due) {
        const reflected = await deps.journal.once<ReflectionCompletion>(
          { workflowId, t: input.t, kind: 'reflect', seed: input.reflectSeed, trajectoryRef: outcome.trajectoryRef, experience: null, model: s.model },
          async () => {
            const trajectory = await loadTrajectory(deps.store, outcome.trajectoryRef);
            return deps.llmLimiter(() => deps.inference.reflect(s, trajectory, input.reflectSeed, signal));
          },
        );
        if (reflected.reused) reused++;
        const c = reflected.completion;
        reflection = { raw: await deps.store.toText(c.content), parsed: c.parsed, usage: c.usage };
      }

      const ends = outcome.success || input.lastStep || (plan !== null && outcomeAfterStep(plan, reflection?.parsed.valid ?? false) !== null);
      if (ends) await deps.sessions.close(input.sessionId).catch(() => undefined);
      return { action: await deps.store.toText(acted.completion.content), actUsage: acted.completion.usage, outcome, reflection, closed: ends, reusedCompletions: reused, opened };
    } catch (err) {
      // A retry of an opening step may run on another worker: do not leave this session behind.
      if (opened) await deps.sessions.close(input.sessionId).catch(() => undefined);
      // Cancelled (the aborted request threw its own error): report the cancellation, which a
      // branch waiting for this activity to finish treats as such.
      if (signal.aborted && signal.reason instanceof Error) throw signal.reason;
      throw err;
    } finally {
      clearInterval(beat);
    }
  };
}
