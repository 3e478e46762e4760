/**
 * The simulator in its own process (forked by the benchmark over IPC), so its CPU work (the
 * scripted Sokoban policy runs a BFS solver per request) does not share an event loop with the
 * workers or the in-process baseline being measured. It is a stand-in for an inference server,
 * not a model.
 *
 * Messages in:  {cmd:'start', options} | {cmd:'stats'} | {cmd:'reset'} | {cmd:'stop'}
 * Messages out: {ok:true, url} | {ok:true, stats} | {ok:true} | {ok:false, error}
 */
import type { EnvSpec } from '../core/env-spec';
import { simPoliciesFor } from '../sim/sim-policies';
import { startSimServer, type SimServer, type SimServerOptions } from '../sim/sim-server';

export type SimChildOptions = Omit<SimServerOptions, 'policies'> & { env: EnvSpec };

let server: SimServer | null = null;

process.on('message', (msg: { cmd: string; options?: SimChildOptions }) => {
  void (async () => {
    try {
      switch (msg.cmd) {
        case 'start': {
          const { env, ...rest } = msg.options!;
          server = await startSimServer({ ...rest, policies: await simPoliciesFor(env) });
          process.send!({ ok: true, url: server.url });
          return;
        }
        case 'stats':
          process.send!({ ok: true, stats: server!.stats() });
          return;
        case 'reset':
          server!.resetStats();
          process.send!({ ok: true });
          return;
        case 'stop':
          await server?.close();
          process.send!({ ok: true }, undefined, {}, () => process.exit(0));
          return;
      }
    } catch (err) {
      process.send!({ ok: false, error: (err as Error).stack ?? String(err) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
