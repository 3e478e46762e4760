/**
 * How each AgentGym server differs on the wire (see docs/agentgym-protocol.md for the
 * sources). Everything dialect-specific lives in this table; client and environment are
 * generic.
 */
import { AgentGymProtocolError } from './agentgym-errors';

export type DialectName = 'textcraft' | 'babyai' | 'alfworld' | 'sciworld' | 'webshop';

/** A step reply normalised across dialects. */
export interface AgentGymStepReply {
  observation: string;
  reward: number;
  /** sciworld's 0..100 progress score; absent elsewhere. */
  score?: number;
  done: boolean;
  /** Present when the reply itself lists them (alfworld). */
  availableActions?: string[];
}

export interface AgentGymResetReply {
  /** Absent when the observation must be fetched separately (webshop). */
  observation?: string;
  availableActions?: string[];
}

export interface AgentGymDialect {
  readonly name: DialectName;
  /** Field that carries the env id in bodies and query strings. */
  readonly idField: 'id' | 'env_idx';
  parseCreate(reply: unknown, url: string): number;
  resetBody(taskIndex: number): Record<string, unknown>;
  parseReset(reply: unknown, url: string): AgentGymResetReply;
  parseStep(reply: unknown, url: string): AgentGymStepReply;
  /** Endpoint listing the currently possible actions, when separate from the replies. */
  readonly availableActionsPath?: string;
  parseAvailableActions?(reply: unknown, url: string): string[];
  /** Whether the server has a `POST /close` (alfworld and webshop have none). */
  readonly hasClose: boolean;
  /**
   * Webshop does not catch its exceptions: an unknown env_idx is a bare HTTP 500. For it, a
   * 500 on a call that names an id means the session is gone.
   */
  readonly sessionLostOnHttp500: boolean;
  /** Per-env success rule (docs/agentgym-protocol.md, "our success rule"). */
  success(step: AgentGymStepReply): boolean;
}

/** Error texts AgentGym servers use for ids they do not know or have deleted. */
export const SESSION_LOST_PATTERN = /is not valid|has been deleted|not exist/i;

function record(reply: unknown, url: string, what: string): Record<string, unknown> {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
    throw new AgentGymProtocolError(`${what} reply from ${url}: expected a JSON object, got ${JSON.stringify(reply)?.slice(0, 200)}`, url);
  }
  return reply as Record<string, unknown>;
}

function str(obj: Record<string, unknown>, field: string, url: string, what: string): string {
  const value = obj[field];
  if (typeof value !== 'string') {
    throw new AgentGymProtocolError(`${what} reply from ${url}: field "${field}" is ${JSON.stringify(value)}, expected a string`, url);
  }
  return value;
}

function num(obj: Record<string, unknown>, field: string, url: string, what: string): number {
  const value = obj[field];
  // Python bools serialise as true/false; reward is sometimes an int, sometimes a float.
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AgentGymProtocolError(`${what} reply from ${url}: field "${field}" is ${JSON.stringify(value)}, expected a number`, url);
  }
  return value;
}

function bool(obj: Record<string, unknown>, field: string, url: string, what: string): boolean {
  const value = obj[field];
  if (typeof value !== 'boolean') {
    throw new AgentGymProtocolError(`${what} reply from ${url}: field "${field}" is ${JSON.stringify(value)}, expected true or false`, url);
  }
  return value;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

function objectId(reply: unknown, url: string): number {
  const id = record(reply, url, 'create').id;
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new AgentGymProtocolError(`create reply from ${url}: field "id" is ${JSON.stringify(id)}, expected an integer`, url);
  }
  return id;
}

/** textcraft, babyai and sciworld share this shape; they differ in fields noted inline. */
function idDataIdxDialect(
  name: DialectName,
  extra: { initialObservation?: (r: Record<string, unknown>, url: string) => string; withScore: boolean; success: (s: AgentGymStepReply) => boolean },
): AgentGymDialect {
  return {
    name,
    idField: 'id',
    parseCreate: objectId,
    resetBody: (taskIndex) => ({ data_idx: taskIndex }),
    parseReset(reply, url) {
      const r = record(reply, url, 'reset');
      return { observation: extra.initialObservation ? extra.initialObservation(r, url) : str(r, 'observation', url, 'reset') };
    },
    parseStep(reply, url) {
      const r = record(reply, url, 'step');
      return {
        observation: str(r, 'observation', url, 'step'),
        reward: num(r, 'reward', url, 'step'),
        score: extra.withScore ? num(r, 'score', url, 'step') : undefined,
        done: bool(r, 'done', url, 'step'),
      };
    },
    hasClose: true,
    sessionLostOnHttp500: false,
    success: extra.success,
  };
}

const dialects: Record<DialectName, AgentGymDialect> = {
  // reward 1 exactly when the goal item is crafted or fetched.
  textcraft: idDataIdxDialect('textcraft', { withScore: false, success: (s) => s.done && s.reward >= 1 }),
  // The server only keeps done=true when reward > 0.5; reward is discounted by steps taken.
  babyai: idDataIdxDialect('babyai', { withScore: true, success: (s) => s.done && s.reward > 0 }),
  // score is 0..100 progress; done also comes with score -100 on a failed task.
  sciworld: idDataIdxDialect('sciworld', {
    withScore: true,
    success: (s) => s.done && (s.score ?? 0) >= 100,
    // The official client shows the task description before the first observation.
    initialObservation: (r, url) => `${str(r, 'task_description', url, 'reset')}\n${str(r, 'observation', url, 'reset')}`,
  }),
  alfworld: {
    name: 'alfworld',
    idField: 'id',
    parseCreate: objectId,
    // Text world only: the embodied modes need THOR.
    resetBody: (taskIndex) => ({ game: taskIndex, world_type: 'Text' }),
    parseReset(reply, url) {
      const r = record(reply, url, 'reset');
      return { observation: str(r, 'observation', url, 'reset'), availableActions: stringList(r.available_actions) };
    },
    parseStep(reply, url) {
      const r = record(reply, url, 'step');
      return {
        observation: str(r, 'observation', url, 'step'),
        reward: num(r, 'reward', url, 'step'),
        done: bool(r, 'done', url, 'step'),
        availableActions: stringList(r.available_actions),
      };
    },
    hasClose: false,
    sessionLostOnHttp500: false,
    // reward is info["won"]: 1.0 on success, 0.0 otherwise.
    success: (s) => s.done && s.reward >= 1,
  },
  webshop: {
    name: 'webshop',
    idField: 'env_idx',
    parseCreate(reply, url) {
      if (typeof reply !== 'number' || !Number.isInteger(reply)) {
        throw new AgentGymProtocolError(`create reply from ${url}: got ${JSON.stringify(reply)}, expected a bare integer env_idx`, url);
      }
      return reply;
    },
    resetBody: (taskIndex) => ({ session_id: taskIndex }),
    // Reset answers [observation, null]; the official client re-reads GET /observation.
    parseReset: () => ({}),
    parseStep(reply, url) {
      const r = record(reply, url, 'step');
      return { observation: str(r, 'state', url, 'step'), reward: num(r, 'reward', url, 'step'), done: bool(r, 'done', url, 'step') };
    },
    availableActionsPath: '/available_actions',
    parseAvailableActions(reply, url) {
      const r = record(reply, url, 'available_actions');
      const clickables = stringList(r.clickables) ?? [];
      const actions = clickables.map((c) => `click[${c}]`);
      return r.has_search_bar === true ? ['search[<keywords>]', ...actions] : actions;
    },
    hasClose: false,
    sessionLostOnHttp500: true,
    // reward is the attribute-match score of the bought item; only a full match counts.
    success: (s) => s.done && s.reward >= 1,
  },
};

export function dialectFor(env: string): AgentGymDialect {
  const dialect = (dialects as Record<string, AgentGymDialect | undefined>)[env.toLowerCase()];
  if (!dialect) {
    throw new Error(`http env spec: field "env" is ${JSON.stringify(env)}, expected one of ${Object.keys(dialects).join(', ')}`);
  }
  return dialect;
}

