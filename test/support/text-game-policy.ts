/**
 * A simulator policy for the key-and-box text game of test/support/agentgym-test-server.ts.
 * It reads the task index from the task statement ("Task <i>: find the key and open the box.")
 * and so knows the key room (KEY_ROOMS[i % 3], as the test server hides it).
 *
 * - Without a lesson it walks into the key room and then leaves for another room without
 *   opening the drawer (step 2 is the mistake), and keeps wandering: it cannot win.
 * - Reflecting, it points at the first step that left for a room other than the key room
 *   while the key was not taken yet. Before such a step exists it answers an out-of-range
 *   step (no mistake to name yet), which leafe records as an invalid reflection.
 * - With the lesson in the last user message it plays the solution from where it stands.
 */
import { EXPERIENCE_MARKER } from '../../core/templates';
import type { SimPolicy } from '../../sim/policy';

const KEY_ROOMS = ['kitchen', 'study', 'cellar'];
const OTHER_ROOMS = ['study', 'cellar', 'kitchen'];
const TASK_PATTERN = /Task (\d+): find the key and open the box\./;

export interface ActSeen {
  /** 1-based step the answer is for (assistant messages so far + 1). */
  step: number;
  lesson: boolean;
  action: string;
}

export interface TextGamePolicy extends SimPolicy {
  /** Every act answer given, in order (the simulator may be asked the same thing twice on retries). */
  readonly acts: ActSeen[];
  /** Called before each act answer is returned: tests use it to disturb the run at a chosen point. */
  onAct?: (seen: ActSeen) => void;
}

function keyRoomOf(text: string): string {
  const m = TASK_PATTERN.exec(text);
  if (!m) throw new Error(`text-game policy: no task statement in ${JSON.stringify(text.slice(0, 200))}`);
  return KEY_ROOMS[Number(m[1]) % KEY_ROOMS.length];
}

export function solutionFor(keyRoom: string): string[] {
  return [`go to ${keyRoom}`, 'open drawer', 'take key', 'go to hall', 'open box'];
}

export function textGamePolicy(): TextGamePolicy {
  const policy: TextGamePolicy = {
    acts: [],
    handles: (r) => r.messages.some((m) => m.role === 'user' && TASK_PATTERN.test(m.content)),
    act(r) {
      const users = r.messages.filter((m) => m.role === 'user');
      const keyRoom = keyRoomOf(users[0].content);
      const wrongRoom = OTHER_ROOMS[KEY_ROOMS.indexOf(keyRoom)];
      const taken = r.messages.filter((m) => m.role === 'assistant').length;
      const lesson = users[users.length - 1].content.includes(EXPERIENCE_MARKER);
      const plan = lesson ? solutionFor(keyRoom) : [`go to ${keyRoom}`, `go to ${wrongRoom}`, 'open drawer', 'go to hall', 'open box'];
      const action = plan[taken] ?? 'inventory';
      const seen = { step: taken + 1, lesson, action };
      policy.acts.push(seen);
      policy.onAct?.(seen);
      return action;
    },
    reflect(r) {
      const user = r.messages.find((m) => m.role === 'user')!.content;
      const keyRoom = keyRoomOf(user);
      const actions = [...user.matchAll(/--- Step (\d+) ---\nAction:\n(.*)\n/g)].map((m) => m[2].trim());
      let hasKey = false;
      for (const [i, action] of actions.entries()) {
        if (action === 'take key') hasKey = true;
        const go = /^go to (\w+)$/.exec(action);
        if (!hasKey && go && go[1] !== keyRoom && go[1] !== 'hall') {
          return { step: i + 1, experience: `The key is in the ${keyRoom} drawer: open the drawer there and take the key before leaving the ${keyRoom}.` };
        }
      }
      return { step: actions.length + 1, experience: 'No mistake so far.' };
    },
  };
  return policy;
}
