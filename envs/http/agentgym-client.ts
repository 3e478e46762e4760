/**
 * HTTP client for one AgentGym environment server. Knows the wire (dialects, error
 * replies, retries, timeouts); knows nothing about episodes, which http-environment owns.
 */
import {
  AgentGymError,
  AgentGymHttpError,
  AgentGymServerError,
  AgentGymSessionLostError,
  AgentGymTransportError,
} from './agentgym-errors';
import { SESSION_LOST_PATTERN, type AgentGymDialect, type AgentGymResetReply, type AgentGymStepReply } from './agentgym-dialects';

export interface AgentGymClientOptions {
  /** Per-request timeout, ms. AgentGym's own clients allow 300 s (ALFWorld resets are slow). */
  timeoutMs?: number;
  /** Extra attempts after a 503 or a refused connection. */
  retries?: number;
  /** First backoff delay, ms; doubles per attempt up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export const defaultClientOptions: Required<AgentGymClientOptions> = {
  timeoutMs: 300_000,
  retries: 5,
  backoffMs: 200,
  maxBackoffMs: 5_000,
};

interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
  /** Env id named by this call, so an unknown-id reply becomes AgentGymSessionLostError. */
  envId?: number;
  /** Safe to resend after a timeout or dropped connection (the server may have acted). */
  idempotent: boolean;
}

export class AgentGymClient {
  readonly baseUrl: string;
  private readonly options: Required<AgentGymClientOptions>;
  private health?: Promise<void>;

  constructor(
    baseUrl: string,
    readonly dialect: AgentGymDialect,
    options: AgentGymClientOptions = {},
  ) {
    let parsed: URL;
    try {
      parsed = new URL(baseUrl);
    } catch {
      throw new Error(`http env spec: field "baseUrl" is ${JSON.stringify(baseUrl)}, expected an absolute http(s) URL such as http://127.0.0.1:36001`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`http env spec: field "baseUrl" is ${JSON.stringify(baseUrl)}, expected an http:// or https:// URL`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.options = { ...defaultClientOptions, ...options };
  }

  /**
   * `GET /` answers a greeting on every AgentGym server. Checked once; a failed check is
   * forgotten so the next call tries again (the server may just be starting).
   */
  ensureHealthy(): Promise<void> {
    if (!this.health) {
      this.health = this.request({ method: 'GET', path: '/', idempotent: true }).then(
        () => undefined,
        (error: unknown) => {
          this.health = undefined;
          const detail = error instanceof Error ? error.message : String(error);
          throw new AgentGymError(
            `AgentGym ${this.dialect.name} server not reachable at ${this.baseUrl} (health check GET ${this.baseUrl}/ failed): ${detail}. Is the server running (e.g. \`${this.dialect.name} --host 127.0.0.1 --port <port>\`)?`,
            this.baseUrl,
            { cause: error },
          );
        },
      );
    }
    return this.health;
  }

  async create(): Promise<number> {
    // textcraft requires a JSON body ({commands?, goal?}); the others ignore it.
    const reply = await this.request({ method: 'POST', path: '/create', body: {}, idempotent: false });
    return this.dialect.parseCreate(reply, this.url('/create'));
  }

  async reset(envId: number, taskIndex: number): Promise<AgentGymResetReply> {
    const body = { [this.dialect.idField]: envId, ...this.dialect.resetBody(taskIndex) };
    const reply = await this.request({ method: 'POST', path: '/reset', body, envId, idempotent: true });
    const parsed = this.dialect.parseReset(reply, this.url('/reset'));
    if (parsed.observation === undefined) parsed.observation = await this.observation(envId);
    return parsed;
  }

  async step(envId: number, action: string): Promise<AgentGymStepReply> {
    const body = { [this.dialect.idField]: envId, action };
    const reply = await this.request({ method: 'POST', path: '/step', body, envId, idempotent: false });
    return this.dialect.parseStep(reply, this.url('/step'));
  }

  async observation(envId: number): Promise<string> {
    const path = `/observation?${this.dialect.idField}=${envId}`;
    const reply = await this.request({ method: 'GET', path, envId, idempotent: true });
    if (typeof reply === 'string') return reply;
    if (typeof reply === 'object' && reply !== null && typeof (reply as { observation?: unknown }).observation === 'string') {
      return (reply as { observation: string }).observation;
    }
    throw new AgentGymError(`GET ${this.url(path)}: got ${JSON.stringify(reply)?.slice(0, 200)}, expected a string observation`, this.url(path));
  }

  /** Undefined when this dialect has no separate endpoint for them. */
  async availableActions(envId: number): Promise<string[] | undefined> {
    const { availableActionsPath, parseAvailableActions } = this.dialect;
    if (!availableActionsPath || !parseAvailableActions) return undefined;
    const path = `${availableActionsPath}?${this.dialect.idField}=${envId}`;
    const reply = await this.request({ method: 'GET', path, envId, idempotent: true });
    return parseAvailableActions(reply, this.url(path));
  }

  /**
   * Never throws: closing is cleanup, and AgentGym servers answer an already-closed or
   * unknown id with false, {"error"} or HTTP 500, and some have no /close at all (404).
   */
  async close(envId: number): Promise<void> {
    if (!this.dialect.hasClose) return;
    try {
      await this.request({ method: 'POST', path: '/close', body: { [this.dialect.idField]: envId }, idempotent: true });
    } catch {
      // Nothing useful to do: the session is gone either way or the server is.
    }
  }

  private url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  private async request(spec: RequestSpec): Promise<unknown> {
    const url = this.url(spec.path);
    const { retries, timeoutMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      let response: Response;
      try {
        response = await fetch(url, {
          method: spec.method,
          headers: spec.body ? { 'content-type': 'application/json' } : undefined,
          body: spec.body ? JSON.stringify(spec.body) : undefined,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const transport = classifyFetchError(url, error, timeoutMs);
        // A refused connection never reached the server; anything else may have.
        if (!last && (transport.delivered === 'no' || spec.idempotent)) {
          await this.backoff(attempt);
          continue;
        }
        throw transport;
      }
      const text = await response.text();
      if (response.status === 503 && !last) {
        await this.backoff(attempt);
        continue;
      }
      if (!response.ok) {
        if (response.status === 500 && spec.envId !== undefined && this.dialect.sessionLostOnHttp500) {
          throw new AgentGymSessionLostError(url, spec.envId, `HTTP 500 ${text.slice(0, 200)}`);
        }
        throw new AgentGymHttpError(url, response.status, text);
      }
      const reply = parseJson(text);
      if (typeof reply === 'object' && reply !== null && !Array.isArray(reply) && 'error' in reply) {
        const message = String((reply as { error: unknown }).error);
        if (spec.envId !== undefined && SESSION_LOST_PATTERN.test(message)) {
          throw new AgentGymSessionLostError(url, spec.envId, message);
        }
        throw new AgentGymServerError(url, message);
      }
      return reply;
    }
  }

  private backoff(attempt: number): Promise<void> {
    const delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** attempt);
    return new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** FastAPI answers JSON; a plain-text body (e.g. "Internal Server Error") is kept as text. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const NOT_DELIVERED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function classifyFetchError(url: string, error: unknown, timeoutMs: number): AgentGymTransportError {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new AgentGymTransportError(url, 'maybe', `no answer within ${timeoutMs} ms`, error);
  }
  const code = errorCode(error);
  const delivered = code !== undefined && NOT_DELIVERED_CODES.has(code) ? 'no' : 'maybe';
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const detail = code ?? (cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error));
  return new AgentGymTransportError(url, delivered, detail, error);
}

/** undici wraps the socket error in `cause`; Node 20 may wrap it again in an AggregateError. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const withCode = current as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof withCode.code === 'string' && withCode.code !== 'UND_ERR_SOCKET') return withCode.code;
    if (Array.isArray(withCode.errors) && withCode.errors.length > 0) {
      const inner = withCode.errors[0] as { code?: unknown };
      if (typeof inner.code === 'string') return inner.code;
    }
    current = withCode.cause;
  }
  return undefined;
}
