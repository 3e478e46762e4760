import { apiKeyFor } from './inference-keys';
import { connectionProblem } from './openai-errors';

export const SERVER_CHECK_TIMEOUT_MS = 10_000;

export interface ServerCheckTarget {
  baseUrl: string;
  model: string;
  apiKeyEnv?: string;
  /** How the user set the URL and the model, for the message: "--base-url/--model", "inference". */
  fields: { baseUrl: string; model: string };
}

/**
 * Before any work starts: does `GET <baseUrl>/models` answer, in time, with a model list that
 * names the model? Throws an error naming the URL and the reason otherwise, so a wrong URL or
 * model fails in seconds instead of as retries nobody sees. Returns a warning instead when the
 * server wants a key this process may not send (the workers may hold it; their first request
 * then tells).
 */
export async function checkInferenceServer(target: ServerCheckTarget, timeoutMs = SERVER_CHECK_TIMEOUT_MS): Promise<{ warning: string | null }> {
  const url = `${target.baseUrl.replace(/\/+$/, '')}/models`;
  const fail = (why: string) => new Error(`${target.fields.baseUrl}: inference server ${target.baseUrl} ${why}; expected an OpenAI-compatible server (GET ${url}) serving model ${JSON.stringify(target.model)}`);
  let apiKey: string | undefined;
  let keyRefused: string | null = null;
  try {
    apiKey = apiKeyFor(target);
  } catch (err) {
    keyRefused = (err as Error).message;
  }
  let res: Response;
  try {
    res = await fetch(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError')) throw fail(`did not answer within ${timeoutMs / 1000} s`);
    throw fail(`is unreachable: ${connectionProblem(err)}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw fail(`did not finish its answer within ${timeoutMs / 1000} s (${(err as Error).message})`);
  }
  if ((res.status === 401 || res.status === 403) && !apiKey) {
    return { warning: `inference server ${target.baseUrl} wants an API key to list its models (HTTP ${res.status}) and this process sends none${keyRefused ? ` (${keyRefused})` : ''}; the workers' own keys are used for the requests` };
  }
  if (!res.ok) throw fail(`answered GET ${url} with HTTP ${res.status}: ${text.slice(0, 300)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw fail(`answered GET ${url} with something that is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
  }
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw fail(`answered GET ${url} without a model list (no "data" array): ${JSON.stringify(text.slice(0, 120))}`);
  const ids = data.map((m: { id?: unknown }) => String(m?.id));
  if (!ids.includes(target.model)) {
    throw new Error(`${target.fields.model}: inference server ${target.baseUrl} does not serve model ${JSON.stringify(target.model)}; expected one of the models it lists: ${ids.length ? ids.map((id) => JSON.stringify(id)).join(', ') : '(none)'}`);
  }
  return { warning: null };
}
