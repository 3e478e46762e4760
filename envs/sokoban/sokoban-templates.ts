/**
 * Every Sokoban text the model or the user reads. The simulator policy recognises a Sokoban
 * prompt by LEGEND_MARKER and classifies feedback by the MISTAKE_MARKERS: keep them stable.
 */
import { fillTemplate, type TemplateVars } from '../../core/templates';
export const LEGEND_MARKER = 'Legend: # wall';

export const MISTAKE_MARKERS = ['Nothing happened', 'Deadlock', 'no longer on a goal'] as const;

export const sokobanTexts = {
  instructions: `The environment is a Sokoban puzzle. You move the player (@) on a grid; walking into a box ($) pushes it one square if the square behind it is free. Boxes cannot be pulled, and you cannot push two boxes at once. Put every box on a goal (.) to win. A box pushed into a corner or against a wall with no goal along it is stuck for good.
Actions: up, down, left, right (one per reply). You may add a short sentence, but end your reply with the direction, e.g. "Action: left".`,

  observation: `{{grid}}

${LEGEND_MARKER}, _ floor, @ player, + player on a goal, $ box, * box on a goal, . goal. Positions are (row, column), counted from (0, 0) at the top-left corner.
Boxes on goals: {{onGoals}}/{{total}}`,

  position: '({{row}}, {{col}})',

  unparseable: `Could not read a move from your reply "{{reply}}". Valid actions: up, down, left, right. Nothing happened.`,
  blockedByWall: 'You tried to move {{dir}} but a wall is in the way. Nothing happened.',
  blockedByBox: 'You tried to push the box at {{box}} {{dir}}, but it cannot move: {{obstacle}} is behind it. Nothing happened.',
  obstacleWall: 'a wall',
  obstacleBox: 'another box',
  moved: 'You moved {{dir}} to {{pos}}.',
  pushed: 'You pushed the box {{dir}} from {{from}} to {{to}}.',
  boxOnGoal: ' The box is now on a goal.',
  boxOffGoal: ' The box is no longer on a goal.',
  deadlockCorner: ' Deadlock: the box at {{box}} is stuck in a corner and is not on a goal; this level can no longer be solved.',
  deadlockWall: ' Deadlock: the box at {{box}} is pushed against a wall with no goal along it; it can never leave that wall, so this level can no longer be solved.',
  deadlockBlock: ' Deadlock: the box at {{box}} is frozen in a 2x2 block of boxes and walls and is not on a goal; this level can no longer be solved.',
  deadlockDeadSquare: ' Deadlock: the box at {{box}} can no longer be pushed to any goal from there; this level can no longer be solved.',
  solved: ' All boxes are on goals: the level is solved!',
  episodeOver: 'The episode is over; no further moves are accepted. Nothing happened.',

  // Simulator policy replies and reflection notes.
  act: 'I move {{dir}}. Action: {{dir}}',
  lessonDeadlock:
    'Pushing the box from {{from}} {{dir}} to {{to}} made it stuck ({{reason}}). Do not push that box there; move {{better}} instead and keep it away from walls without goals.',
  lessonDetour: 'Moving {{dir}} at this point was a wasted move; moving {{better}} gets the boxes to the goals sooner.',
  lessonNoMistake: 'The moves so far were fine; keep going the same way and do not push boxes into corners.',
  lessonVague: 'Be more careful with the boxes and think before pushing.',
  reasonCorner: 'a corner',
  reasonWall: 'a wall with no goal along it',
  reasonBlock: 'a frozen 2x2 block',
  reasonDeadSquare: 'a square from which no goal can be reached',
} as const;

export type SokobanTextName = keyof typeof sokobanTexts;

export function sokobanText(name: SokobanTextName, vars: TemplateVars = {}): string {
  return fillTemplate(sokobanTexts[name], vars, `sokoban template '${name}'`);
}
