/** A round trip to a worker of a queue: the smallest proof that it serves. */
export interface PingActivities {
  ping(message: string): Promise<string>;
}
