// Misbehaving OpenAI-compatible servers on loopback: what a wrong URL, a broken proxy or a
// hung server looks like to leafe. Every request is recorded with its Authorization header.
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { HUMANEVAL_FILE } from '../../infra/paths';
import { listenOnLoopback } from './loopback-server';

/** What the server does for one request: answer (status, body as is) or never answer. */
export type FakeAnswer = { status: number; body: string } | 'hang';

export interface FakeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface FakeInference {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

export const json = (status: number, body: unknown): FakeAnswer => ({ status, body: JSON.stringify(body) });
export const modelList = (...ids: string[]): FakeAnswer => json(200, { object: 'list', data: ids.map((id) => ({ id, object: 'model' })) });
export const chatAnswer = (content: string): FakeAnswer =>
  json(200, { id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });

/** `answer(path)` decides per request path ("/v1/models", "/v1/chat/completions"). */
export async function startFakeInference(answer: (path: string) => FakeAnswer): Promise<FakeInference> {
  const requests: FakeRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
      const a = answer(path);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  return { ...(await listenOnLoopback(server)), requests };
}

/** A one-task `base` study spec on HumanEval whose inference (and deploy) go to `url`, written to `<dir>/<name>.yaml`; returns the file. */
export function baseStudySpecFile(dir: string, name: string, url: string, model: string): string {
  const specFile = path.join(dir, `${name}.yaml`);
  writeFileSync(
    specFile,
    `name: ${name}
methods: [base]
env: { kind: code, tasks: ${JSON.stringify(HUMANEVAL_FILE)} }
tasks: { train: { offset: 0, limit: 1 }, eval: { offset: 1, limit: 1 } }
inference: { kind: openai, baseUrl: ${JSON.stringify(url)}, model: ${model} }
trainer: { kind: sim }
deploy: { kind: vllm-lora, baseUrl: ${JSON.stringify(url)} }
evaluation: { samples: 1 }
`,
  );
  return specFile;
}
