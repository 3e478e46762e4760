import { ApplicationFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { OpenEnvironmentResult, StepOutcome } from '../activities/environment/environment-activities';
import type { TakeStepResult } from '../activities/environment/take-step-activity';
import type { InferenceActivities, ReflectResult } from '../activities/inference/inference-activities';
import type { Text } from '../core/text';
import { addUsage, NO_USAGE, type BranchOutcome, type ReflectionRecord, type StepRecord, type TokenUsage } from '../core/tree';
import { actsAfterReplay, askForStep, outcomeAfterStep, planReflection } from '../core/branch-decisions';
import { EnvironmentSession, LLM_RETRY, llmHeartbeatTimeout } from './environment-session';
import type { BranchInput, BranchRequest, BranchResult } from './episode-types';
import { INCONSISTENT_STEP } from '../core/failure-types';

/**
 * One branch of an episode tree (child workflow `<episodeId>/b<n>`): open the environment and
 * replay the prefix a₁..a_{τ-1} to rebuild the state at τ, then act → step → reflect when due,
 * until success, a rollback request, the horizon or the budget.
 */
export async function branchWorkflow(input: BranchInput): Promise<BranchResult> {
  const { leafe, timeouts } = input;
  const llm = proxyActivities<InferenceActivities>({
    taskQueue: input.queues.llm,
    startToCloseTimeout: timeouts.llmStartToCloseMs,
    heartbeatTimeout: llmHeartbeatTimeout(timeouts),
    retry: LLM_RETRY(timeouts),
  });
  const session = new EnvironmentSession(workflowInfo().workflowId, {
    env: input.env,
    taskId: input.taskId,
    seed: input.seed,
    envQueue: input.queues.env,
    timeouts,
    // Branches recorded before it closed nothing once cancelled (their histories end without the close).
    closeOnCancel: patched('close-session-on-cancel'),
  });

  // One activity per step (act + step + reflect on the session worker): 6 history events per
  // step instead of 12–18. Branches recorded before it, and inference kept on the llm workers
  // by setting, use one activity per call.
  const oneActivityPerStep = input.inference.requestsFrom !== 'llm-workers' && patched('take-step');

  const stepInput = (t: number, newStepsSoFar: number, requestsMade: number) => ({ ...askForStep(input, t, newStepsSoFar, requestsMade), inference: input.inference });

  // A branch that will act opens its session with its first step: one activity and one workflow
  // task less per branch (what a burst of episode starts waits on).
  let first: TakeStepResult | null = null;
  let opened: OpenEnvironmentResult;
  if (oneActivityPerStep && actsAfterReplay(input, input.prefix.length)) {
    const r = await session.openAndTakeStep(input.prefix, stepInput(input.prefix.length + 1, 0, 0));
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
      const ask = stepInput(t, newSteps, requests.length);
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
      workflowId: workflowInfo().workflowId,
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
