import os from 'node:os';
import type { PingActivities } from '../contract/ping-activities';

export function createPingActivities(): PingActivities {
  return {
    async ping(message: string): Promise<string> {
      return `pong: ${message} (from ${os.hostname()}:${process.pid})`;
    },
  };
}
