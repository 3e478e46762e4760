import type { LeafeSettings } from './leafe-settings';
import { deriveSeed } from './random';
import type { BranchOutcome } from './tree';

/**
 * The decisions a branch takes after a step, as pure functions: the branch workflow and the
 * benchmark's in-process baseline both call them, so the two cannot drift apart.
 */
export interface AfterStep {
  leafe: LeafeSettings;
  /** New steps taken by this branch so far (this one included). */
  newSteps: number;
  failed: boolean;
  /** The environment ended the episode (without success: success is handled first). */
  done: boolean;
  canRequestBranches: boolean;
  requestsMade: number;
  /** Branch slots left in the episode (absent in older histories: no limit). */
  maxRequests?: number;
  allowance: number;
}

export interface ReflectionPlan {
  due: boolean;
  /** Triggered by a failed step (a valid lesson then ends the branch with a rollback). */
  onFailure: boolean;
  /** The environment ended in failure (e.g. a Sokoban deadlock): the branch ends after this step. */
  endedInFailure: boolean;
}

/** Reflect every K new steps and after a failure, but only if a new branch could act on the lesson. */
export function planReflection(s: AfterStep): ReflectionPlan {
  const endedInFailure = s.done;
  const onInterval = s.leafe.reflectEvery > 0 && s.newSteps % s.leafe.reflectEvery === 0;
  const onFailure = s.leafe.reflectOnFailure && (s.failed || endedInFailure);
  const slotsLeft = s.requestsMade < (s.maxRequests ?? Number.POSITIVE_INFINITY);
  const due = s.canRequestBranches && slotsLeft && s.newSteps < s.allowance && (onInterval || onFailure);
  return { due, onFailure, endedInFailure };
}

/**
 * How the branch goes on after a step (and its reflection, if one was asked): null = keep acting.
 * A valid failure reflection ends it with a rollback; an environment that ended stops it anyway.
 */
export function outcomeAfterStep(plan: ReflectionPlan, validReflection: boolean): BranchOutcome | null {
  if (plan.due && validReflection && plan.onFailure) return 'rollback';
  return plan.endedInFailure ? 'done' : null;
}

/** What fixes a branch's requests besides the step index (fields as in the branch's input). */
export interface BranchAsking {
  leafe: LeafeSettings;
  seed: number;
  branchId: string;
  tau: number | null;
  experience: string | null;
  canRequestBranches: boolean;
  maxRequests?: number;
  allowance: number;
}

/** What step t of a branch asks for: the lesson shown, the sampling seeds, the reflection inputs. */
export interface StepAsk {
  /** 1-based index of the step: the session has taken t − 1 steps (replayed ones included). */
  t: number;
  /** The lesson, when it is shown at this step (at τ and, with keepExperience, every later step). */
  experience: string | null;
  actSeed: number;
  reflectSeed: number;
  /** What `planReflection` needs besides the step's own outcome (newSteps counts this step). */
  decision: Omit<AfterStep, 'failed' | 'done'>;
  /** The branch ends after this step whatever it gives (horizon or budget reached). */
  lastStep: boolean;
}

export function askForStep(b: BranchAsking, t: number, newStepsSoFar: number, requestsMade: number): StepAsk {
  const shown = b.experience !== null && b.tau !== null && (t === b.tau || (b.leafe.keepExperience && t > b.tau));
  return {
    t,
    experience: shown ? b.experience : null,
    actSeed: deriveSeed(b.seed, b.branchId, t, 'act'),
    reflectSeed: deriveSeed(b.seed, b.branchId, t, 'reflect'),
    decision: { leafe: b.leafe, newSteps: newStepsSoFar + 1, canRequestBranches: b.canRequestBranches, requestsMade, maxRequests: b.maxRequests, allowance: b.allowance },
    lastStep: t >= b.leafe.horizon || newStepsSoFar + 1 >= b.allowance,
  };
}

/** Whether a branch acts after replaying its prefix (then its first step can open the session). */
export function actsAfterReplay(b: BranchAsking, prefixLength: number): boolean {
  return prefixLength < b.leafe.horizon && b.allowance > 0;
}
