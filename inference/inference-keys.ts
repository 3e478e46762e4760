import { ApplicationFailure } from '@temporalio/common';
import { INFERENCE_KEYS_INVALID, INFERENCE_KEY_REFUSED } from '../contract/failure-types';

/**
 * Which API keys this process may send, and where. The spec (written by whoever starts a
 * workflow) only names a variable; the worker's owner decides in the worker's own environment:
 *
 *   LEAFE_INFERENCE_KEYS='{"LEAFE_KEY_OPENAI": ["https://api.openai.com/v1"]}'
 *
 * maps a variable to the base URLs its key may be sent to (same origin, same path or below).
 * Only variables named LEAFE_KEY_* or OPENAI_API_KEY can be listed, so a spec can never make a
 * worker send, say, its AWS credentials. A URL listed for a key gets it even when the spec names
 * none; a spec naming a variable that is not listed for its URL is refused (the request is not
 * sent). Without the setting no key is sent anywhere.
 */
export const INFERENCE_KEYS_ENV = 'LEAFE_INFERENCE_KEYS';
export const KEY_VARIABLE_PREFIX = 'LEAFE_KEY_';

export type KeyPolicy = Map<string, string[]>;

export function isAllowedKeyVariable(name: string): boolean {
  return name === 'OPENAI_API_KEY' || (name.startsWith(KEY_VARIABLE_PREFIX) && name.length > KEY_VARIABLE_PREFIX.length);
}

/** Parses LEAFE_INFERENCE_KEYS; a malformed setting is an error naming what is wrong. */
export function keyPolicyFrom(env: NodeJS.ProcessEnv = process.env): KeyPolicy {
  const raw = env[INFERENCE_KEYS_ENV];
  const policy: KeyPolicy = new Map();
  if (!raw?.trim()) return policy;
  const bad = (what: string) =>
    new Error(`${INFERENCE_KEYS_ENV}: ${what}; expected JSON like {"${KEY_VARIABLE_PREFIX}NAME": ["https://host/v1"]} (variables named ${KEY_VARIABLE_PREFIX}* or OPENAI_API_KEY, each with the base URLs its key may be sent to)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(`got ${JSON.stringify(parsed)}`);
  for (const [variable, urls] of Object.entries(parsed)) {
    if (!isAllowedKeyVariable(variable)) throw bad(`variable ${JSON.stringify(variable)} is not allowed`);
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string' && URL.canParse(u))) throw bad(`${variable}: got ${JSON.stringify(urls)}, not a list of URLs`);
    policy.set(variable, urls as string[]);
  }
  return policy;
}

/** Same origin, and the request's path is the listed one or below it. */
function covers(listed: string, target: string): boolean {
  const a = new URL(listed);
  const b = new URL(target);
  const path = (u: URL) => u.pathname.replace(/\/+$/, '');
  return a.origin === b.origin && (path(b) === path(a) || path(b).startsWith(`${path(a)}/`));
}

/**
 * The API key this process may send to `baseUrl`: from the variable the spec names (`apiKeyEnv`)
 * when the policy lists that URL for it, else from the first variable listed for the URL. A
 * named variable that is not allowed, not listed for the URL or not set is refused with a
 * non-retryable failure (another attempt on this worker cannot change its environment).
 */
export function apiKeyFor(target: { baseUrl: string; apiKeyEnv?: string; field?: string }, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let policy: KeyPolicy;
  try {
    policy = keyPolicyFrom(env);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, INFERENCE_KEYS_INVALID);
  }
  const field = target.field ?? 'inference.apiKeyEnv';
  const refuse = (why: string) =>
    ApplicationFailure.nonRetryable(`${field} ${target.apiKeyEnv}: refused to send its key to ${target.baseUrl}: ${why}`, INFERENCE_KEY_REFUSED);
  if (target.apiKeyEnv) {
    const variable = target.apiKeyEnv;
    if (!isAllowedKeyVariable(variable)) throw refuse(`workers only send keys from variables named ${KEY_VARIABLE_PREFIX}* or OPENAI_API_KEY`);
    const urls = policy.get(variable);
    if (!urls?.some((u) => covers(u, target.baseUrl))) {
      throw refuse(`this worker's ${INFERENCE_KEYS_ENV} does not list that URL for ${variable} (${urls ? `it lists ${urls.join(', ')}` : 'the variable is not listed'}); the worker's owner adds it there`);
    }
    const value = env[variable];
    if (!value) throw refuse(`${variable} is not set on this worker`);
    return value;
  }
  for (const [variable, urls] of policy) {
    if (urls.some((u) => covers(u, target.baseUrl)) && env[variable]) return env[variable];
  }
  return undefined;
}
