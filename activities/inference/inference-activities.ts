import OpenAI from 'openai';
import { Context } from '@temporalio/activity';
import type { InferenceSettings } from '../../core/leafe-settings';
import { parseReflection, type ParsedReflection } from '../../core/parse-reflection';
import { renderAgentMessages, renderReflectionMessages } from '../../core/prompts';
import type { Text } from '../../core/text';
import type { TokenUsage } from '../../core/tree';
import type { ArtifactStore } from '../../infra/artifact-store';
import { loadTrajectory, toAgentContext } from '../environment/trajectory';
import { classifyInferenceError } from './openai-errors';

export interface ActInput {
  inference: InferenceSettings;
  /** Trajectory blob the prompt h_t is rendered from. */
  trajectoryRef: string;
  experience: string | null;
  /** Per-request sampling seed (derived from episode seed, branch and step). */
  seed: number;
}

export interface ActResult {
  action: Text;
  usage: TokenUsage;
}

export interface ReflectInput {
  inference: InferenceSettings;
  trajectoryRef: string;
  seed: number;
}

export interface ReflectResult {
  raw: Text;
  parsed: ParsedReflection;
  usage: TokenUsage;
}

/** JSON schema sent as `response_format`; vLLM enforces it with guided decoding. */
const REFLECTION_SCHEMA = {
  type: 'object',
  properties: { step: { type: 'integer', minimum: 1 }, experience: { type: 'string' } },
  required: ['step', 'experience'],
  additionalProperties: false,
} as const;

/**
 * Inference through the official `openai` client against any OpenAI-compatible server. The
 * client's own retries are off: Temporal retries with backoff and records every attempt.
 */
export function createInferenceActivities(deps: { store: ArtifactStore }) {
  const clients = new Map<string, OpenAI>();
  function clientFor(s: InferenceSettings): OpenAI {
    const key = `${s.baseUrl}\u0000${s.apiKeyEnv ?? ''}\u0000${s.timeoutMs}`;
    let client = clients.get(key);
    if (!client) {
      const apiKey = (s.apiKeyEnv ? process.env[s.apiKeyEnv] : undefined) ?? process.env.OPENAI_API_KEY ?? 'EMPTY';
      client = new OpenAI({ baseURL: s.baseUrl, apiKey, maxRetries: 0, timeout: s.timeoutMs });
      clients.set(key, client);
    }
    return client;
  }

  async function complete(s: InferenceSettings, messages: OpenAI.Chat.ChatCompletionMessageParam[], seed: number, responseFormat?: OpenAI.Chat.ChatCompletionCreateParams['response_format']) {
    // Heartbeat while the request is in flight: a worker that dies mid-request is noticed after
    // the heartbeat timeout instead of the (long) start-to-close timeout.
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 2000);
    try {
      const response = await clientFor(s).chat.completions.create(
        {
          model: s.model,
          messages,
          temperature: s.temperature,
          top_p: s.topP,
          max_tokens: s.maxTokens,
          seed,
          response_format: responseFormat,
        },
        { signal: Context.current().cancellationSignal },
      );
      const content = response.choices[0]?.message?.content ?? '';
      const usage: TokenUsage = {
        promptTokens: response.usage?.prompt_tokens ?? 0,
        completionTokens: response.usage?.completion_tokens ?? 0,
        requests: 1,
      };
      return { content, usage };
    } catch (err) {
      throw classifyInferenceError(err, { baseUrl: s.baseUrl, model: s.model });
    } finally {
      clearInterval(beat);
    }
  }

  return {
    async act(input: ActInput): Promise<ActResult> {
      const trajectory = await loadTrajectory(deps.store, input.trajectoryRef);
      const messages = renderAgentMessages(toAgentContext(trajectory, input.experience));
      const { content, usage } = await complete(input.inference, messages, input.seed);
      return { action: await deps.store.toText(content), usage };
    },

    async reflect(input: ReflectInput): Promise<ReflectResult> {
      const trajectory = await loadTrajectory(deps.store, input.trajectoryRef);
      const messages = renderReflectionMessages(toAgentContext(trajectory, null));
      const { content, usage } = await complete(input.inference, messages, input.seed, {
        type: 'json_schema',
        json_schema: { name: 'reflection', schema: REFLECTION_SCHEMA, strict: true },
      });
      return { raw: await deps.store.toText(content), parsed: parseReflection(content, trajectory.steps.length), usage };
    },
  };
}

export type InferenceActivities = ReturnType<typeof createInferenceActivities>;
