/**
 * Scripted Sokoban "model" for the simulator (tests and dry runs only). It reads the grid of
 * the last observation, plans with the BFS solver and plays the optimal next move with the
 * probability the skill gives for the situation, otherwise a plausible mistake (preferably
 * a push that deadlocks a box). Reflections replay the trajectory from the initial grid to
 * find the first deadlock (else the first wasted move). All randomness comes from `rand`.
 */
import type { ChatMessage } from '../../core/prompts';
import { EXPERIENCE_MARKER } from '../../core/templates';
import type { SimSkill } from '../../contract/sim-skill';
import type { SimPolicy, SimRequest } from '../policy';
import { type Direction, type SokobanLevel, type SokobanState } from '../../envs/sokoban/sokoban-level';
import { applyMove, legalMoves } from '../../envs/sokoban/sokoban-rules';
import { type DeadlockReason, findDeadlock } from '../../envs/sokoban/sokoban-deadlock';
import { solve, solutionLength } from '../../envs/sokoban/sokoban-solver';
import { parseAction } from '../../envs/sokoban/sokoban-actions';
import { formatPosition, parseObservation } from '../../envs/sokoban/sokoban-observation';
import { LEGEND_MARKER, MISTAKE_MARKERS, type SokobanTextName, sokobanText } from '../../envs/sokoban/sokoban-templates';

/** Probability of preferring a deadlocking push when making a mistake. */
const PREFER_DEADLOCK = 0.6;

const REASON_TEXT: Record<DeadlockReason, SokobanTextName> = {
  corner: 'reasonCorner',
  wall: 'reasonWall',
  block: 'reasonBlock',
  'dead-square': 'reasonDeadSquare',
};

function lastUser(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].content;
  return '';
}

function pick<T>(items: T[], rand: () => number): T {
  return items[Math.floor(rand() * items.length)];
}

/** Which skill probability applies to the next move. */
function situation(userMessage: string): 'experience' | 'feedback' | 'first' {
  if (userMessage.includes(EXPERIENCE_MARKER)) return 'experience';
  const feedback = /^Feedback:([\s\S]*?)\n\n/.exec(userMessage)?.[1] ?? '';
  if (MISTAKE_MARKERS.some((m) => feedback.includes(m))) return 'feedback';
  return 'first';
}

/** A legal move that is not optimal; deadlocking pushes are preferred. Null if none exists. */
function wrongMove(level: SokobanLevel, state: SokobanState, rand: () => number): Direction | null {
  const best = solutionLength(level, state);
  const wrong = legalMoves(level, state).filter(({ outcome }) => {
    const after = solutionLength(level, outcome.state);
    return best === null || after === null || after !== best - 1;
  });
  if (wrong.length === 0) return null;
  const deadlocking = wrong.filter(({ outcome }) => outcome.kind === 'pushed' && findDeadlock(level, outcome.state, outcome.to));
  const preferDeadlock = rand() < PREFER_DEADLOCK;
  return pick(preferDeadlock && deadlocking.length > 0 ? deadlocking : wrong, rand).dir;
}

export function chooseSokobanMove(level: SokobanLevel, skill: SimSkill, mode: 'experience' | 'feedback' | 'first', rand: () => number): Direction {
  const state: SokobanState = { player: level.player, boxes: level.boxes };
  const p = mode === 'experience' ? skill.fixWithExperience : mode === 'feedback' ? skill.fixWithFeedback : skill.firstTry;
  const right = rand() < p;
  const plan = solve(level, state);
  const legal = legalMoves(level, state);
  if (!plan || plan.length === 0) {
    // Lost (deadlock) or beyond the solver's limit: wander legally.
    return legal.length > 0 ? pick(legal, rand).dir : 'up';
  }
  if (right) return plan[0];
  return wrongMove(level, state, rand) ?? plan[0];
}

interface ParsedStep {
  n: number;
  action: string;
}

function parseReflectionRequest(text: string): { initial: SokobanLevel; steps: ParsedStep[] } {
  const obs = /Initial observation:\n([\s\S]*?)\n\nTrajectory:\n/.exec(text);
  if (!obs) throw new Error('sokoban policy: reflection request has no "Initial observation:" section');
  const steps: ParsedStep[] = [];
  const re = /--- Step (\d+) ---\nAction:\n([\s\S]*?)\nFeedback:\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) steps.push({ n: Number(m[1]), action: m[2] });
  return { initial: parseObservation(obs[1]), steps };
}

/** The step a careful reviewer blames, with its lesson; null when no step was a mistake. */
export function diagnoseTrajectory(initial: SokobanLevel, actions: string[]): { step: number; experience: string } | null {
  let state: SokobanState = { player: initial.player, boxes: initial.boxes };
  let firstDetour: { step: number; experience: string } | null = null;
  for (let i = 0; i < actions.length; i++) {
    const dir = parseAction(actions[i]);
    const before = state;
    const bestBefore = solutionLength(initial, before);
    const outcome = dir ? applyMove(initial, before, dir) : null;
    const after = outcome && (outcome.kind === 'moved' || outcome.kind === 'pushed') ? outcome.state : before;
    const better = bestBefore !== null && bestBefore > 0 ? (solve(initial, before)?.[0] ?? null) : null;
    if (outcome?.kind === 'pushed' && !findDeadlock(initial, before)) {
      const deadlock = findDeadlock(initial, after, outcome.to);
      if (deadlock && dir) {
        const experience = sokobanText('lessonDeadlock', {
          from: formatPosition(initial, outcome.from),
          dir,
          to: formatPosition(initial, outcome.to),
          reason: sokobanText(REASON_TEXT[deadlock.reason]),
          better: better ?? 'another way',
        });
        return { step: i + 1, experience };
      }
    }
    if (!firstDetour && bestBefore !== null && bestBefore > 0) {
      const bestAfter = solutionLength(initial, after);
      if (bestAfter === null || bestAfter !== bestBefore - 1) {
        firstDetour = { step: i + 1, experience: sokobanText('lessonDetour', { dir: dir ?? 'nowhere', better: better ?? 'another way' }) };
      }
    }
    state = after;
  }
  return firstDetour;
}

export function createSokobanPolicy(): SimPolicy {
  return {
    handles(request: SimRequest): boolean {
      return request.messages.some((m) => m.role === 'user' && m.content.includes(LEGEND_MARKER));
    },

    act(request: SimRequest, skill: SimSkill, rand: () => number): string {
      const message = lastUser(request.messages);
      let level: SokobanLevel;
      try {
        level = parseObservation(message);
      } catch {
        const dir = pick(['up', 'down', 'left', 'right'] as const, rand);
        return sokobanText('act', { dir });
      }
      const dir = chooseSokobanMove(level, skill, situation(message), rand);
      return sokobanText('act', { dir });
    },

    reflect(request: SimRequest, skill: SimSkill, rand: () => number): { step: number; experience: string } {
      const { initial, steps } = parseReflectionRequest(lastUser(request.messages));
      const total = Math.max(1, steps.length);
      const accurate = rand() < skill.reflectionAccuracy;
      const diagnosis = diagnoseTrajectory(initial, steps.map((s) => s.action)) ?? { step: total, experience: sokobanText('lessonNoMistake') };
      if (accurate) return diagnosis;
      const others = Array.from({ length: total }, (_, i) => i + 1).filter((n) => total === 1 || n !== diagnosis.step);
      return { step: pick(others, rand), experience: sokobanText('lessonVague') };
    },
  };
}
