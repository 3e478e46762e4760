import type { ChatMessage } from '../../core/prompts';
import { EXPERIENCE_MARKER, TASK_MARKER } from '../../core/templates';
import type { CodeTask } from '../../envs/code/code-tasks';
import { mutateProgram, triviallyWrongProgram } from '../code-mutations';
import type { SimSkill } from '../../contract/sim-skill';
import type { SimPolicy, SimRequest } from '../policy';

/**
 * Scripted policy for the code environment. Right answers are the task's reference program;
 * wrong ones are plausible mutations of it. Which one comes out is drawn from `rand` against the
 * skill: first try, fix after feedback, fix with an experience note.
 */

const TASK_ID = new RegExp(`${TASK_MARKER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*(\\S+)`);

function taskIdOf(messages: ChatMessage[]): string | undefined {
  const firstUser = messages.find((m) => m.role === 'user');
  return firstUser ? TASK_ID.exec(firstUser.content)?.[1] : undefined;
}

const PREAMBLES = ['', 'Here is my solution.\n\n', 'This should handle the cases described.\n\n', 'Updated program:\n\n'];

function fenced(program: string, rand: () => number): string {
  return `${PREAMBLES[Math.floor(rand() * PREAMBLES.length)]}\`\`\`python\n${program.replace(/\n+$/, '')}\n\`\`\``;
}

interface ReflectionStep {
  n: number;
  action: string;
  feedback: string;
}

/** Parses the `--- Step n ---` blocks of a reflection prompt (see core/templates reflectionStep). */
export function parseReflectionSteps(text: string): ReflectionStep[] {
  const parts = text.split(/^--- Step (\d+) ---$/m);
  const steps: ReflectionStep[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const body = parts[i + 1];
    const fb = body.indexOf('\nFeedback:\n');
    const action = (fb >= 0 ? body.slice(0, fb) : body).replace(/^\s*Action:\n/, '');
    const feedback = fb >= 0 ? cutTrailer(body.slice(fb + '\nFeedback:\n'.length)) : '';
    steps.push({ n: Number(parts[i]), action, feedback });
  }
  return steps;
}

/** The last step's block runs into the closing question of the reflection prompt: cut it off. */
function cutTrailer(feedback: string): string {
  const q = feedback.lastIndexOf('\n\nWhich step went wrong first');
  return (q >= 0 ? feedback.slice(0, q) : feedback).trim();
}

/** The most telling line of test feedback: a failing assertion, else an error line, else the first line. */
function keyFailure(feedback: string): string {
  const lines = feedback.split('\n').map((l) => l.trim()).filter(Boolean);
  const pick = lines.find((l) => /\bassert/i.test(l)) ?? lines.find((l) => /error|exception|fail|expected/i.test(l)) ?? lines[0] ?? '';
  return pick.length > 160 ? pick.slice(0, 157) + '...' : pick;
}

const VAGUE_NOTES = [
  'Be more careful with the logic and think through the problem again.',
  'Re-read the task statement before writing code.',
  'Try a different approach to the problem.',
  'Double-check the implementation for mistakes.',
];

export function createCodePolicy(tasks: CodeTask[]): SimPolicy {
  const byId = new Map(tasks.map((t) => [t.id, t]));

  /** A bug for the task; tasks without a reference can only be answered wrongly. */
  const buggy = (task: CodeTask, rand: () => number) =>
    task.reference ? mutateProgram(task.reference, rand, task.entryPoint).program : triviallyWrongProgram(task.statement, task.entryPoint);

  return {
    handles(request: SimRequest): boolean {
      const id = taskIdOf(request.messages);
      return id !== undefined && byId.has(id);
    },

    act(request: SimRequest, skill: SimSkill, rand: () => number): string {
      const task = byId.get(taskIdOf(request.messages) ?? '')!;
      const attempts = request.messages.filter((m) => m.role === 'assistant').length;
      const last = request.messages[request.messages.length - 1];
      const hasExperience = last.role === 'user' && last.content.includes(EXPERIENCE_MARKER);
      const p = attempts === 0 ? skill.firstTry : hasExperience ? skill.fixWithExperience : skill.fixWithFeedback;
      // The decision is the stream's first draw, so a more skilled model is right on a superset of requests.
      const right = rand() < p && task.reference !== undefined;
      return fenced(right ? task.reference! : buggy(task, rand), rand);
    },

    reflect(request: SimRequest, skill: SimSkill, rand: () => number): { step: number; experience: string } {
      const text = request.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
      const steps = parseReflectionSteps(text);
      const T = Math.max(steps.length, 1);
      if (rand() < skill.reflectionAccuracy) {
        // For code the useful branch point is the latest attempt: retry it with its feedback in mind.
        const failure = keyFailure(steps[steps.length - 1]?.feedback ?? '');
        const experience = failure
          ? `The last program failed this check: ${failure}. Fix the logic for that case before anything else.`
          : 'The last program did not pass the tests; check the edge cases of the specification.';
        return { step: T, experience };
      }
      const step = T > 1 ? 1 + Math.floor(rand() * (T - 1)) : 1;
      return { step, experience: VAGUE_NOTES[Math.floor(rand() * VAGUE_NOTES.length)] };
    },
  };
}
