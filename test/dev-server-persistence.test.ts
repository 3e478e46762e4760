// `leafe server` keeps workflows across restarts on the same SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { startDevServer } from '../runtime/dev-server';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withClient<T>(address: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

test('a workflow started before a restart on the same SQLite file is still there after it', async () => {
  const cli = inject('temporalCli');
  const dbFile = path.join(dir, 'temporal.sqlite');
  const first = await startDevServer({ cli, dbFile, ui: false });
  await withClient(first.address, (c) =>
    c.workflow.start('notRegistered', { taskQueue: 'nobody-polls', workflowId: 'survives-restart', args: [] }),
  );
  await first.stop();

  const second = await startDevServer({ cli, dbFile, ui: false });
  try {
    const description = await withClient(second.address, (c) => c.workflow.getHandle('survives-restart').describe());
    expect(description.workflowId).toBe('survives-restart');
    expect(description.status.name).toBe('RUNNING');
  } finally {
    await second.stop();
  }
});
