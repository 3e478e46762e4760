/**
 * A real HTTP server that speaks the AgentGym environment-server protocol
 * (docs/agentgym-protocol.md) in one of three dialects, playing a tiny deterministic text
 * game: find the key hidden in a drawer of one room, bring it to the hall, open the box.
 * Task index i hides the key in KEY_ROOMS[i % 3].
 *
 * Deliberate choice: the textcraft dialect refuses steps on a finished env with
 * {"error": "... has finished."} as babyai/sciworld/alfworld do (real TextCraft lets them
 * through), so one dialect covers the error path.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type TestServerDialect = 'textcraft' | 'alfworld' | 'webshop';

export interface AgentGymTestServerOptions {
  dialect?: TestServerDialect;
}

export interface AgentGymTestServer {
  readonly url: string;
  readonly dialect: TestServerDialect;
  /** Sessions created and not closed (a restart forgets them all). */
  openSessions(): number;
  /** The next `count` requests get this status (default 503) with an empty body. */
  failNext(count: number, status?: number): void;
  /** The next `count` requests are handled normally but answered only after `ms`. */
  stallNext(count: number, ms: number): void;
  /** Appended to every step observation from now on: a server that is not deterministic. */
  setObservationSuffix(suffix: string): void;
  /** "METHOD /path" of every request received, in order. */
  readonly calls: string[];
  /** Like a crashed and restarted server: all sessions forgotten, ids from 0, same port. */
  restart(): Promise<void>;
  /** Stop listening (connections refused) until start(). Sessions are forgotten. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const ROOMS = ['hall', 'kitchen', 'study', 'cellar'];
const KEY_ROOMS = ['kitchen', 'study', 'cellar'];

class KeyBoxGame {
  private room = 'hall';
  private readonly opened = new Set<string>();
  private hasKey = false;
  done = false;
  private readonly keyRoom: string;

  constructor(private readonly taskIndex: number) {
    this.keyRoom = KEY_ROOMS[taskIndex % KEY_ROOMS.length];
  }

  intro(): string {
    return `Task ${this.taskIndex}: find the key and open the box.\n${this.describe()}`;
  }

  describe(): string {
    return this.room === 'hall' ? 'You are in the hall. There is a locked box here.' : `You are in the ${this.room}. There is a drawer here.`;
  }

  actions(): string[] {
    const list = ROOMS.filter((r) => r !== this.room).map((r) => `go to ${r}`);
    if (this.room === 'hall') list.push('open box');
    else if (!this.opened.has(this.room)) list.push('open drawer');
    else if (this.room === this.keyRoom && !this.hasKey) list.push('take key');
    list.push('inventory');
    return list;
  }

  step(action: string): { observation: string; reward: number; done: boolean } {
    const a = action.trim();
    let observation: string;
    let reward = 0;
    const go = /^go to (\w+)$/.exec(a);
    if (go && ROOMS.includes(go[1]) && go[1] !== this.room) {
      this.room = go[1];
      observation = this.describe();
    } else if (a === 'open drawer' && this.room !== 'hall') {
      if (this.opened.has(this.room)) observation = 'The drawer is already open.';
      else {
        this.opened.add(this.room);
        observation = this.room === this.keyRoom && !this.hasKey ? 'You open the drawer. There is a key inside.' : 'You open the drawer. It is empty.';
      }
    } else if (a === 'take key' && this.room === this.keyRoom && this.opened.has(this.room) && !this.hasKey) {
      this.hasKey = true;
      observation = 'You take the key.';
    } else if (a === 'open box' && this.room === 'hall') {
      if (this.hasKey) {
        this.done = true;
        reward = 1;
        observation = 'You unlock the box with the key. Inside is a golden cup. Task complete!';
      } else observation = 'The box is locked. You need a key.';
    } else if (a === 'inventory') {
      observation = this.hasKey ? 'You carry: a key.' : 'You carry nothing.';
    } else {
      observation = `Could not execute ${a}`;
    }
    return { observation, reward, done: this.done };
  }
}

interface Session {
  game?: KeyBoxGame;
  observation: string;
}

class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly text = false,
  ) {}
}

const ok = (body: unknown) => new Reply(200, body);
const notFound = () => new Reply(404, { detail: 'Not Found' });

export async function startAgentGymTestServer(options: AgentGymTestServerOptions = {}): Promise<AgentGymTestServer> {
  const dialect = options.dialect ?? 'textcraft';
  const idField = dialect === 'webshop' ? 'env_idx' : 'id';
  let sessions = new Map<number, Session>();
  let created = 0;
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let stalls = { count: 0, ms: 0 };
  let suffix = '';
  const calls: string[] = [];

  // Webshop ids are random in the real server; here scattered but deterministic.
  const newId = () => (dialect === 'webshop' ? 1000 + ((created++ * 7919) % 48_950_076) : created++);

  const unknownId = (id: unknown): Reply =>
    dialect === 'webshop' ? new Reply(500, 'Internal Server Error', true) : ok({ error: `The id ${String(id)} is not valid.` });

  const handle = (method: string, url: URL, body: Record<string, unknown>): Reply => {
    const route = `${method} ${url.pathname}`;
    const queryId = Number(url.searchParams.get(idField));
    const bodyId = body[idField];
    const session = (id: unknown) => (typeof id === 'number' ? sessions.get(id) : undefined);
    if (route === 'GET /') {
      return ok(dialect === 'webshop' ? 'ok' : `This is environment ${dialect === 'textcraft' ? 'TextCraft' : 'AlfWorld'}.`);
    }
    if (route === 'POST /create') {
      const id = newId();
      if (dialect === 'textcraft') {
        // Real TextCraft resets a new env to data_idx = its id.
        const game = new KeyBoxGame(id);
        sessions.set(id, { game, observation: game.intro() });
        return ok({ id, observation: game.intro(), done: false, reward: 0 });
      }
      sessions.set(id, { observation: '' });
      return ok(dialect === 'webshop' ? id : { id });
    }
    if (route === 'POST /reset') {
      if (typeof bodyId !== 'number') return new Reply(422, { detail: [{ loc: ['body', idField], msg: 'Field required' }] });
      const s = session(bodyId);
      if (!s) return unknownId(bodyId);
      const taskField = dialect === 'alfworld' ? 'game' : dialect === 'webshop' ? 'session_id' : 'data_idx';
      const task = body[taskField];
      if (typeof task !== 'number') return new Reply(422, { detail: [{ loc: ['body', taskField], msg: 'Field required' }] });
      if (dialect === 'alfworld' && !['Text', 'Embody', 'Hybrid'].includes(String(body.world_type))) {
        return ok({ error: 'world_type must be one of "Text", "Embody" and "Hybrid"' });
      }
      s.game = new KeyBoxGame(task);
      s.observation = s.game.intro();
      if (dialect === 'webshop') return ok([s.observation, null]);
      if (dialect === 'alfworld') return ok({ id: bodyId, observation: s.observation, available_actions: s.game.actions(), task_type: 'key_box' });
      return ok({ id: bodyId, observation: s.observation, done: false, reward: 0 });
    }
    if (route === 'POST /step') {
      const s = session(bodyId);
      if (!s) return unknownId(bodyId);
      if (!s.game) return ok({ error: `The env ${String(bodyId)} has not been reset.` });
      if (s.game.done && dialect !== 'webshop') return ok({ error: `The task with environment ${String(bodyId)} has finished.` });
      let action = String(body.action ?? '');
      if (dialect === 'webshop') action = /^click\[(.*)\]$/.exec(action)?.[1] ?? action;
      const r = s.game.step(action);
      r.observation += suffix;
      s.observation = r.observation;
      if (dialect === 'webshop') return ok({ state: r.observation, reward: r.reward, done: r.done, info: null });
      if (dialect === 'alfworld') return ok({ observation: r.observation, reward: r.reward, available_actions: s.game.actions(), done: r.done });
      return ok({ observation: r.observation, reward: r.reward, done: r.done });
    }
    if (route === 'GET /observation') {
      const s = session(queryId);
      return s ? ok(s.observation) : unknownId(queryId);
    }
    if (route === 'GET /available_actions' && dialect !== 'textcraft') {
      const s = session(queryId);
      if (!s) return unknownId(queryId);
      const actions = s.game?.actions() ?? [];
      return ok(dialect === 'webshop' ? { has_search_bar: false, clickables: actions } : actions);
    }
    // Only textcraft (of our three) has /close; unknown ids answer false like the real one.
    if (route === 'POST /close' && dialect === 'textcraft') {
      return ok(typeof bodyId === 'number' ? sessions.delete(bodyId) : false);
    }
    return notFound();
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      calls.push(`${req.method} ${url.pathname}`);
      let reply: Reply;
      if (failures.count > 0) {
        failures.count--;
        reply = new Reply(failures.status, '', true);
      } else {
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          reply = handle(req.method ?? 'GET', url, body);
        } catch {
          reply = new Reply(422, { detail: 'JSON decode error' });
        }
      }
      const send = () => {
        if (res.destroyed) return;
        res.statusCode = reply.status;
        res.setHeader('content-type', reply.text ? 'text/plain' : 'application/json');
        res.end(reply.text ? String(reply.body) : JSON.stringify(reply.body));
      };
      // A stalled request has already changed the game: like a slow server, not a lost request.
      if (stalls.count > 0) {
        stalls.count--;
        setTimeout(send, stalls.ms);
      } else send();
    });
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // Keep-alive sockets would otherwise keep the "crashed" server answering.
      server.closeAllConnections();
    });
  const forget = () => {
    sessions = new Map();
    created = 0;
    failures = { count: 0, status: 503 };
    stalls = { count: 0, ms: 0 };
  };

  await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    dialect,
    calls,
    openSessions: () => sessions.size,
    failNext(count, status = 503) {
      failures = { count, status };
    },
    setObservationSuffix(text) {
      suffix = text;
    },
    stallNext(count, ms) {
      stalls = { count, ms };
    },
    async restart() {
      await stopListening();
      forget();
      await listen(port);
    },
    async stop() {
      await stopListening();
      forget();
    },
    async start() {
      await listen(port);
    },
    close: stopListening,
  };
}
