import OpenAI from 'openai';
import type { InferenceSettings } from '../core/leafe-settings';
import { parseReflection } from '../core/parse-reflection';
import { renderAgentMessages, renderReflectionMessages } from '../core/prompts';
import { toAgentContext, type Trajectory } from '../core/trajectory';
import type { Completion, InferenceClient, ReflectionCompletion } from '../contract/inference-port';
import { apiKeyFor } from './inference-keys';
import { classifyInferenceError } from './openai-errors';
import { ApplicationFailure } from '@temporalio/activity';
import { INFERENCE_BAD_RESPONSE, INFERENCE_TIMEOUT } from '../contract/failure-types';

/** JSON schema sent as `response_format`; vLLM enforces it with guided decoding. */
export const REFLECTION_SCHEMA = {
  type: 'object',
  properties: { step: { type: 'integer', minimum: 1 }, experience: { type: 'string' } },
  required: ['step', 'experience'],
  additionalProperties: false,
} as const;

/** The `response_format` of every reflection request. */
export const REFLECTION_FORMAT: OpenAI.Chat.ChatCompletionCreateParams['response_format'] = {
  type: 'json_schema',
  json_schema: { name: 'reflection', schema: REFLECTION_SCHEMA, strict: true },
};

/**
 * The completion's text, or a retried, visible inference error naming the server: a 200 whose
 * body is not a chat completion (an HTML page from a proxy, `choices: []`, `content: null`) is
 * the server's fault, never the model's "answer without a program".
 */
function completionText(response: unknown, baseUrl: string): string {
  const choices = (response as { choices?: unknown } | null)?.choices;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const content = (first as { message?: { content?: unknown } } | undefined)?.message?.content;
  if (typeof content === 'string') return content;
  const what = !Array.isArray(choices) ? 'no `choices` list' : choices.length === 0 ? '`choices: []`' : `\`choices[0].message.content\` ${content === undefined ? 'missing' : `= ${JSON.stringify(content)}`}`;
  throw ApplicationFailure.retryable(`inference server ${baseUrl} answered HTTP 200 with a body that is not a chat completion (${what}); expected choices[0].message.content to be a string`, INFERENCE_BAD_RESPONSE);
}

/**
 * Chat requests through the official `openai` client against any OpenAI-compatible server.
 * The client's own retries are off: Temporal retries with backoff and records every attempt.
 * Used by the `act`/`reflect` activities and by `takeStep` on the session worker.
 */
export function createInferenceClient(): InferenceClient {
  const clients = new Map<string, { openai: OpenAI; sentKey: boolean }>();
  function clientFor(s: InferenceSettings): { openai: OpenAI; sentKey: boolean } {
    const key = `${s.baseUrl}\u0000${s.apiKeyEnv ?? ''}\u0000${s.timeoutMs}`;
    let client = clients.get(key);
    if (!client) {
      // Only a key this worker's owner listed for this URL (inference-keys.ts); refused otherwise.
      const apiKey = apiKeyFor(s);
      client = { openai: new OpenAI({ baseURL: s.baseUrl, apiKey: apiKey ?? 'EMPTY', maxRetries: 0, timeout: s.timeoutMs }), sentKey: apiKey !== undefined };
      clients.set(key, client);
    }
    return client;
  }

  async function complete(
    s: InferenceSettings,
    messages: OpenAI.Chat.ChatCompletionMessageParam[],
    seed: number,
    signal: AbortSignal | undefined,
    responseFormat?: OpenAI.Chat.ChatCompletionCreateParams['response_format'],
  ): Promise<Completion> {
    let sentKey = false;
    // inference.timeoutMs bounds the whole request, body included: the client's own timeout ends
    // at the headers, so a server that drips its answer a byte a second was never cut off.
    const deadline = AbortSignal.timeout(s.timeoutMs);
    try {
      const client = clientFor(s);
      sentKey = client.sentKey;
      const response = await client.openai.chat.completions.create(
        { model: s.model, messages, temperature: s.temperature, top_p: s.topP, max_tokens: s.maxTokens, seed, response_format: responseFormat },
        { signal: signal ? AbortSignal.any([signal, deadline]) : deadline },
      );
      return { content: completionText(response, s.baseUrl), usage: { promptTokens: response.usage?.prompt_tokens ?? 0, completionTokens: response.usage?.completion_tokens ?? 0, requests: 1 } };
    } catch (err) {
      if (deadline.aborted && !signal?.aborted) throw ApplicationFailure.retryable(`inference server ${s.baseUrl}: no complete response within ${s.timeoutMs / 1000} s (inference.timeoutMs ${s.timeoutMs})`, INFERENCE_TIMEOUT);
      throw classifyInferenceError(err, { baseUrl: s.baseUrl, model: s.model, timeoutMs: s.timeoutMs, sentKey });
    }
  }

  return {
    /** The agent's next action a_t given h_t (and the lesson, when shown at this step). */
    act(s: InferenceSettings, trajectory: Trajectory, experience: string | null, seed: number, signal?: AbortSignal): Promise<Completion> {
      return complete(s, renderAgentMessages(toAgentContext(trajectory, experience)), seed, signal);
    },

    /** A reflection (τ, e) on the trajectory so far, asked for as JSON. */
    async reflect(s: InferenceSettings, trajectory: Trajectory, seed: number, signal?: AbortSignal): Promise<ReflectionCompletion> {
      const c = await complete(s, renderReflectionMessages(toAgentContext(trajectory, null)), seed, signal, REFLECTION_FORMAT);
      return { ...c, parsed: parseReflection(c.content, trajectory.steps.length) };
    },
  };
}
