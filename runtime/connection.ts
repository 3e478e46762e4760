import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** How to reach Temporal. The same settings serve the dev server, a cluster and Temporal Cloud. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Temporal Cloud API key (implies TLS). */
  apiKey?: string;
  tls?: { serverName?: string; caFile?: string; certFile?: string; keyFile?: string } | true;
}

export const DEFAULT_ADDRESS = 'localhost:7233';

/** Settings from flags, then env (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*), then defaults. */
export function temporalSettings(flags: Partial<{ address: string; namespace: string; apiKey: string; tls: boolean; tlsCert: string; tlsKey: string; tlsCa: string; tlsServerName: string }> = {}): TemporalSettings {
  const env = process.env;
  const certFile = flags.tlsCert ?? env.TEMPORAL_TLS_CERT;
  const keyFile = flags.tlsKey ?? env.TEMPORAL_TLS_KEY;
  const caFile = flags.tlsCa ?? env.TEMPORAL_TLS_CA;
  const serverName = flags.tlsServerName ?? env.TEMPORAL_TLS_SERVER_NAME;
  const tlsOn = flags.tls ?? (env.TEMPORAL_TLS === 'true' || env.TEMPORAL_TLS === '1');
  const tls = certFile || keyFile || caFile || serverName ? { certFile, keyFile, caFile, serverName } : tlsOn ? (true as const) : undefined;
  return {
    address: flags.address ?? env.TEMPORAL_ADDRESS ?? DEFAULT_ADDRESS,
    namespace: flags.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
    apiKey: flags.apiKey ?? env.TEMPORAL_API_KEY,
    tls,
  };
}

function tlsConfig(settings: TemporalSettings) {
  const { tls, apiKey } = settings;
  if (!tls) return apiKey ? true : undefined;
  if (tls === true) return true;
  if ((tls.certFile && !tls.keyFile) || (!tls.certFile && tls.keyFile)) {
    throw new Error(`TLS: certFile=${JSON.stringify(tls.certFile)} keyFile=${JSON.stringify(tls.keyFile)}; expected both a client certificate and its key, or neither`);
  }
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caFile ? readFileSync(tls.caFile) : undefined,
    clientCertPair: tls.certFile && tls.keyFile ? { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : undefined,
  };
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({ address: settings.address, tls: tlsConfig(settings), apiKey: settings.apiKey });
  return new Client({ connection, namespace: settings.namespace });
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect({ address: settings.address, tls: tlsConfig(settings), apiKey: settings.apiKey });
}
