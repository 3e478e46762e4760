import { ApplicationFailure } from '@temporalio/common';
import type { OpenEnvironmentResult, StepOutcome } from '../contract/environment-activities';
import type { TakeStepInput, TakeStepResult } from '../contract/environment-activities';
import type { InferenceActivities, ReflectResult } from '../contract/inference-activities';
import { actsAfterReplay, askForStep, outcomeAfterStep, planReflection } from '../core/branch-decisions';
import type { Text } from '../core/text';
import { addUsage, NO_USAGE, type BranchOutcome, type ReflectionRecord, type StepRecord, type TokenUsage } from '../core/tree';
import type { BranchInput, BranchRequest, BranchResult } from '../contract/episode-types';
import type { StepStrategy } from './step-strategy';
import { INCONSISTENT_STEP } from '../contract/failure-types';

/**
 * The branch loop, written once (pure: no Temporal workflow API, no Node). branchWorkflow runs it
 * through proxied activities; the benchmark's in-process baseline runs it through direct calls of
 * the same activity functions, so the two cannot drift apart.
 */

/** What step t asks for (the decision inputs, seeds and lesson) plus the inference endpoint. */
export type StepRequest = Omit<TakeStepInput, 'sessionId' | 'trajectoryRef' | 'open'>;

/** The branch's environment session (workflows/environment-session.ts on Temporal). */
export interface BranchSession {
  /** Re-opens so far (a lost worker: reset + replay elsewhere). */
  readonly reopens: number;
  /** Opens the environment and replays `prefix`. */
  open(prefix: Text[]): Promise<OpenEnvironmentResult>;
  /** 'take-step': opens the session (reset + replay `prefix`) and takes the first step in one call. */
  openAndTakeStep(prefix: Text[], step: StepRequest): Promise<TakeStepResult & { opened: OpenEnvironmentResult }>;
  /** 'take-step': act, env step and (when due) reflect in one call. */
  takeStep(step: StepRequest): Promise<TakeStepResult>;
  /** 'activity-per-call': the env step alone. */
  step(action: Text): Promise<StepOutcome>;
  /** Closes the session (unless a step already did); also runs when the branch fails or is cancelled. */
  close(): Promise<void>;
}

export interface BranchPort {
  /** The id the branch's record carries (its workflow id on Temporal). */
  workflowId: string;
  session: BranchSession;
  /** 'activity-per-call': the model's requests, one call each. */
  llm: InferenceActivities;
}

/**
 * One branch of an episode tree: open the environment and replay the prefix a₁..a_{τ-1} to
 * rebuild the state at τ, then act → step → reflect when due, until success, a rollback
 * request, the horizon or the budget.
 */
export async function exploreBranch(input: BranchInput, strategy: StepStrategy, port: BranchPort): Promise<BranchResult> {
  const { leafe } = input;
  const { session, llm } = port;
  const oneActivityPerStep = strategy === 'take-step';

  const stepRequest = (t: number, newStepsSoFar: number, requestsMade: number): StepRequest => ({ ...askForStep(input, t, newStepsSoFar, requestsMade), inference: input.inference });

  // A branch that will act opens its session with its first step: one activity and one workflow
  // task less per branch (what a burst of episode starts waits on).
  let first: TakeStepResult | null = null;
  let opened: OpenEnvironmentResult;
  if (oneActivityPerStep && actsAfterReplay(input, input.prefix.length)) {
    const r = await session.openAndTakeStep(input.prefix, stepRequest(input.prefix.length + 1, 0, 0));
    opened = r.opened;
    first = r;
  } else {
    opened = await session.open(input.prefix);
  }
  const steps: StepRecord[] = opened.replayed.map((r, i) => ({
    t: i + 1,
    action: input.prefix[i],
    observation: r.observation,
    feedback: r.feedback,
    reward: r.reward,
    done: r.done,
    success: r.success,
    replayed: true,
  }));
  const reflections: ReflectionRecord[] = [];
  const requests: BranchRequest[] = [];
  let usage = NO_USAGE;
  let trajectoryRef = opened.trajectoryRef;
  let newSteps = 0;
  let outcome: BranchOutcome | null = null;
  let rollback: BranchRequest | undefined;

  try {
    while (outcome === null) {
      if (steps.length >= leafe.horizon) {
        outcome = 'horizon';
        break;
      }
      if (newSteps >= input.allowance) {
        outcome = 'budget';
        break;
      }
      const t = steps.length + 1;
      const ask = stepRequest(t, newSteps, requests.length);
      const { experience, decision } = ask;
      let acted: { action: Text; usage: TokenUsage };
      let r: StepOutcome;
      let reflected: ReflectResult | null = null;
      if (oneActivityPerStep) {
        // Act, step and (when due) reflect in one activity on the session's worker.
        const taken = first ?? (await session.takeStep(ask));
        first = null;
        acted = { action: taken.action, usage: taken.actUsage };
        r = taken.outcome;
        reflected = taken.reflection;
      } else {
        acted = await llm.act({ inference: input.inference, trajectoryRef, experience, seed: ask.actSeed });
        r = await session.step(acted.action);
      }
      usage = addUsage(usage, acted.usage);
      trajectoryRef = r.trajectoryRef;
      newSteps++;
      steps.push({ t, action: acted.action, observation: r.observation, feedback: r.feedback, reward: r.reward, done: r.done, success: r.success, replayed: false, usage: acted.usage });
      if (r.success) {
        outcome = 'success';
        break;
      }
      const plan = planReflection({ ...decision, failed: r.failed, done: r.done });
      let valid = false;
      if (plan.due) {
        if (!oneActivityPerStep) {
          reflected = await llm.reflect({ inference: input.inference, trajectoryRef, seed: ask.reflectSeed });
        } else if (!reflected) {
          throw ApplicationFailure.nonRetryable(`takeStep did not reflect after step ${t} of ${input.branchId}, but planReflection says a reflection is due`, INCONSISTENT_STEP);
        }
        usage = addUsage(usage, reflected.usage);
        const p = reflected.parsed;
        reflections.push({
          afterStep: t,
          step: p.step,
          experience: p.experience,
          raw: reflected.raw,
          valid: p.valid,
          error: p.valid ? undefined : p.error,
          trigger: plan.onFailure ? 'failure' : 'interval',
          usage: reflected.usage,
        });
        // An invalid reflection is recorded; the branch goes on as if none had been asked.
        if (p.valid) {
          valid = true;
          requests.push({ tau: p.step, experience: p.experience, fromStep: t });
        }
      }
      outcome = outcomeAfterStep(plan, valid);
      if (outcome === 'rollback') rollback = requests[requests.length - 1];
    }
  } finally {
    await session.close();
  }

  return {
    record: {
      id: input.branchId,
      workflowId: port.workflowId,
      parent: input.parent,
      depth: input.depth,
      tau: input.tau,
      experience: input.experience,
      steps,
      reflections,
      outcome,
      rollback: rollback ? { tau: rollback.tau, experience: rollback.experience } : undefined,
      newSteps,
      replayedSteps: opened.replayed.length,
      reopens: session.reopens,
      ...(opened.isolation ? { isolation: opened.isolation } : {}),
      usage,
    },
    requests,
    initialObservation: opened.observation,
    instructions: opened.instructions,
  };
}
