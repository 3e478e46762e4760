import { Context } from '@temporalio/activity';
import type { ActInput, ActResult, InferenceActivities, ReflectInput, ReflectResult } from '../../contract/inference-activities';
import type { InferenceClient } from '../../contract/inference-port';
import type { ArtifactStore } from '../../infra/artifact-store';
import { loadTrajectory } from '../environment/trajectory';

/**
 * Inference as activities of its own on the llm queue: one request each. Branches started
 * before `takeStep` existed still call these; the lock-step benchmark baseline does too.
 */
export function createInferenceActivities(deps: { store: ArtifactStore; client: InferenceClient }): InferenceActivities {
  const { client } = deps;

  /** Heartbeat while the request is in flight: a dead worker is noticed after the heartbeat timeout. */
  async function withHeartbeat<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 2000);
    try {
      return await fn(ctx.cancellationSignal);
    } finally {
      clearInterval(beat);
    }
  }

  return {
    async act(input: ActInput): Promise<ActResult> {
      const trajectory = await loadTrajectory(deps.store, input.trajectoryRef);
      const { content, usage } = await withHeartbeat((signal) => client.act(input.inference, trajectory, input.experience, input.seed, signal));
      return { action: await deps.store.toText(content), usage };
    },

    async reflect(input: ReflectInput): Promise<ReflectResult> {
      const trajectory = await loadTrajectory(deps.store, input.trajectoryRef);
      const { content, usage, parsed } = await withHeartbeat((signal) => client.reflect(input.inference, trajectory, input.seed, signal));
      return { raw: await deps.store.toText(content), parsed, usage };
    },
  };
}
