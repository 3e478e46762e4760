/**
 * A loopback HTTP proxy in front of the local vLLM that counts and journals every chat
 * completion it forwards (the real-model chaos run, ./real-crash-equivalence.ts). It outlives
 * vLLM restarts, so its counts cover the whole run where vLLM's own /metrics restart at zero.
 *
 * Per request it records the sha256 of the request body as sent (model, messages, seed and
 * sampling settings: two runs that ask the same thing send the same bytes), the model asked,
 * what vLLM answered (status, sha256 of the answer text) and whether the asking client was still
 * there to receive it (a worker SIGKILLed mid-request is not: vLLM answered, nobody recorded it).
 *
 * `serialize`: forwards one chat completion at a time, so vLLM always runs a batch of one (its
 * CPU kernels need not give the same floats for a request alone and inside a batch).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';

export interface ProxiedRequest {
  /** Order of arrival at the proxy. */
  seq: number;
  /** ms since the proxy started, when the request arrived. */
  at: number;
  /** sha256 of the request body (hex). */
  key: string;
  model: string;
  /** `reflect` when the request asks for JSON (`response_format`: only reflections do), else `act`. */
  kind: 'act' | 'reflect';
  seed: number | null;
  /** HTTP status from vLLM; 502 when vLLM could not be reached or dropped the connection; 499 when the client left before it was forwarded. */
  status: number;
  /** sha256 of choices[0].message.content when status is 200. */
  answerSha256: string | null;
  /** The answer text (for the first-divergence report). */
  answer: string | null;
  completionTokens: number | null;
  /** False when the client had gone before the answer came (its worker was killed). */
  delivered: boolean;
  ms: number;
}

export interface CountingProxy {
  url: string;
  /** Every chat completion so far, in order of arrival. */
  requests(): ProxiedRequest[];
  /** Other paths forwarded (`/v1/load_lora_adapter`, `/v1/models`...), by `METHOD path status`. */
  otherCounts(): Record<string, number>;
  close(): Promise<void>;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export async function startCountingProxy(o: { port: number; upstream: string; serialize: boolean }): Promise<CountingProxy> {
  const upstream = new URL(o.upstream);
  const started = Date.now();
  const journal: ProxiedRequest[] = [];
  const other: Record<string, number> = {};
  let queue: Promise<void> = Promise.resolve();

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve) => {
      const up = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (err) => resolve(badGateway(err)));
        },
      );
      up.on('error', (err) => resolve(badGateway(err)));
      up.end(body);
    });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isChat = req.method === 'POST' && (req.url ?? '').endsWith('/chat/completions');
      let gone = false;
      res.on('close', () => {
        if (!res.writableFinished) gone = true;
      });
      const run = async () => {
        const t0 = Date.now();
        // A client that left while queued (its worker was killed) is not forwarded, as vLLM drops
        // a request whose client disconnects.
        const answer = gone ? { status: 499, headers: {}, body: Buffer.alloc(0) } : await forward(req, body);
        if (isChat) {
          let parsed: { model?: string; seed?: number; response_format?: unknown } = {};
          try {
            parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
          } catch {
            // journalled with what is known
          }
          let content: string | null = null;
          let tokens: number | null = null;
          if (answer.status === 200) {
            try {
              const a = JSON.parse(answer.body.toString('utf8')) as { choices?: Array<{ message?: { content?: string } }>; usage?: { completion_tokens?: number } };
              content = a.choices?.[0]?.message?.content ?? '';
              tokens = a.usage?.completion_tokens ?? null;
            } catch {
              content = null;
            }
          }
          journal.push({
            seq: journal.length,
            at: t0 - started,
            key: sha256(body),
            model: parsed.model ?? '?',
            kind: parsed.response_format ? 'reflect' : 'act',
            seed: typeof parsed.seed === 'number' ? parsed.seed : null,
            status: answer.status,
            answerSha256: content === null ? null : sha256(content),
            answer: content,
            completionTokens: tokens,
            delivered: !gone && !res.destroyed,
            ms: Date.now() - t0,
          });
        } else {
          const k = `${req.method} ${(req.url ?? '').split('?')[0]} ${answer.status}`;
          other[k] = (other[k] ?? 0) + 1;
        }
        if (!res.destroyed) {
          const { 'transfer-encoding': _te, 'content-length': _cl, connection: _c, ...headers } = answer.headers;
          res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
          res.end(answer.body);
        }
      };
      if (isChat && o.serialize) {
        queue = queue.then(run, run);
      } else {
        void run();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${o.port}/v1`,
    requests: () => [...journal],
    otherCounts: () => ({ ...other }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function badGateway(err: Error): { status: number; headers: http.IncomingHttpHeaders; body: Buffer } {
  return { status: 502, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ error: { message: `proxy: vLLM unreachable (${err.message})`, type: 'BadGateway', code: 502 } })) };
}
