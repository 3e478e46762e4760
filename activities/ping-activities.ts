import os from 'node:os';

export function createPingActivities() {
  return {
    async ping(message: string): Promise<string> {
      return `pong: ${message} (from ${os.hostname()}:${process.pid})`;
    },
  };
}

export type PingActivities = ReturnType<typeof createPingActivities>;
