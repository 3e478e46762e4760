import path from 'node:path';
import { isListening } from '../runtime/dev-server';
import { listServedModels, startVllmServer, type VllmServer } from '../runtime/vllm-server';
import type { LocalVllmSpec } from '../spec/load-spec';

/**
 * inference.kind "vllm": make sure the local vLLM answers at the spec's fixed port. A server
 * already there that serves the same model is reused (a resumed run after a crash of this
 * command); anything else on that port is an error naming the field. Returns what to stop.
 */
export async function ensureLocalVllm(spec: LocalVllmSpec, runDir: string, log: (l: string) => void): Promise<VllmServer | null> {
  if (await isListening(`127.0.0.1:${spec.port}`)) {
    const models = await listServedModels(spec.baseUrl);
    if (models.some((m) => m.id === spec.servedName)) {
      log(`leafe: reusing the vLLM already serving ${spec.servedName} at ${spec.baseUrl}`);
      return null;
    }
    throw new Error(`inference.port: ${spec.port} is in use by something that does not serve ${JSON.stringify(spec.servedName)} at ${spec.baseUrl}/models; expected a free port (set inference.port)`);
  }
  return startVllmServer({
    env: spec.env,
    modelDir: spec.modelDir,
    servedName: spec.servedName,
    port: spec.port,
    maxLoraRank: spec.maxLoraRank,
    maxModelLen: spec.maxModelLen,
    kvCacheGiB: spec.kvCacheGiB,
    logFile: path.join(runDir, 'vllm', `vllm-${spec.port}.log`),
    log,
  });
}
