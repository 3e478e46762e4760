import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/activity';

/** Statuses worth retrying: timeouts, conflicts, rate limits and every 5xx. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

/**
 * Turns an inference error into what Temporal should do with it: a 4xx other than 408/409/429
 * means the request itself is wrong (bad model name, too long a prompt) and retrying cannot
 * help, so it fails the activity at once with the server's message; everything else retries.
 */
export function classifyInferenceError(err: unknown, where: { baseUrl: string; model: string }): Error {
  if (err instanceof OpenAI.APIError && typeof err.status === 'number' && err.status >= 400 && err.status < 500 && !RETRYABLE_4XX.has(err.status)) {
    return ApplicationFailure.nonRetryable(
      `inference server ${where.baseUrl} rejected the request for model ${JSON.stringify(where.model)} with HTTP ${err.status}: ${err.message}`,
      'InferenceRequestRejected',
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
