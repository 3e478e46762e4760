import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/activity';
import { INFERENCE_BAD_RESPONSE, INFERENCE_REQUEST_REJECTED, INFERENCE_SERVER_ERROR, INFERENCE_TIMEOUT, INFERENCE_UNREACHABLE } from '../contract/failure-types';

/** Statuses worth retrying: timeouts, conflicts, rate limits and every 5xx. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

/** A 4xx other than 408/409/429: the request itself is wrong, so retrying cannot help. */
export function isRequestRejected(status: number): boolean {
  return status >= 400 && status < 500 && !RETRYABLE_4XX.has(status);
}

/** The innermost `cause` of an error: fetch wraps the socket error (ECONNREFUSED...) twice. */
export function innermostCause(err: unknown): unknown {
  let e = err;
  for (let i = 0; i < 10 && e instanceof Error && e.cause !== undefined; i++) e = e.cause;
  return e;
}

/** "connection refused (ECONNREFUSED)" and the like, for a failed connection. */
export function connectionProblem(err: unknown): string {
  const inner = innermostCause(err) as NodeJS.ErrnoException | undefined;
  const code = inner && typeof inner === 'object' ? inner.code : undefined;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by the server',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ETIMEDOUT: 'connection timed out',
    UND_ERR_SOCKET: 'connection closed by the server',
  };
  if (code) return `${known[code] ?? 'cannot connect'} (${code})`;
  // undici refuses the Fetch standard's "bad ports" (9, 25, 6000...) without trying.
  if (inner instanceof Error && inner.message === 'bad port') return 'cannot connect: the port is one fetch refuses to use (a "bad port" of the Fetch standard); use another port';
  return `cannot connect (${inner instanceof Error ? inner.message : String(inner)})`;
}

/**
 * Turns an inference error into what Temporal should do with it, with a message that names the
 * server and what went wrong (it is what `leafe status` and the CLI show while retries go on):
 * a 4xx other than 408/409/429 means the request itself is wrong (bad model name, too long a
 * prompt) and retrying cannot help, so it fails the activity at once with the server's message;
 * everything else (no connection, no answer in time, a 5xx, an answer that is not JSON) retries.
 */
export function classifyInferenceError(err: unknown, where: { baseUrl: string; model: string; timeoutMs: number; sentKey: boolean }): Error {
  const server = `inference server ${where.baseUrl}`;
  // The openai client's message starts with the status again ("500 CUDA out of memory").
  const serverMessage = (e: InstanceType<typeof OpenAI.APIError>) => e.message.replace(/^\d{3} /, '');
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OpenAI.APIError && typeof err.status === 'number' && isRequestRejected(err.status)) {
    const hint = (err.status === 401 || err.status === 403) && !where.sentKey ? ' (no API key was sent: the workers send one only to URLs listed for it in their LEAFE_INFERENCE_KEYS, see docs/design-notes.md)' : '';
    return ApplicationFailure.nonRetryable(`${server} rejected the request for model ${JSON.stringify(where.model)} with HTTP ${err.status}: ${serverMessage(err)}${hint}`, INFERENCE_REQUEST_REJECTED);
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) return ApplicationFailure.retryable(`${server}: no complete response within ${where.timeoutMs / 1000} s (inference.timeoutMs ${where.timeoutMs})`, INFERENCE_TIMEOUT);
  if (err instanceof OpenAI.APIUserAbortError) return err; // cancelled by Temporal: nothing to explain
  if (err instanceof OpenAI.APIConnectionError) return ApplicationFailure.retryable(`${server}: ${connectionProblem(err)}`, INFERENCE_UNREACHABLE);
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') return ApplicationFailure.retryable(`${server} answered HTTP ${err.status}: ${serverMessage(err)}`, INFERENCE_SERVER_ERROR);
  if (err instanceof SyntaxError) return ApplicationFailure.retryable(`${server} answered something that is not JSON (${err.message})`, INFERENCE_BAD_RESPONSE);
  return err instanceof Error ? err : new Error(String(err));
}
