import { proxyActivities } from '@temporalio/workflow';
import type { PingActivities } from '../contract/ping-activities';
import type { PingInput } from '../contract/workflow-types';

/** A round trip through a workflow and an activity: the smallest proof that workers serve. */
export async function pingWorkflow(input: PingInput): Promise<string> {
  const { ping } = proxyActivities<PingActivities>({ taskQueue: input.activityQueue, startToCloseTimeout: '10s' });
  return ping(input.message);
}
