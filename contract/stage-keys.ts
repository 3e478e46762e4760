/**
 * The key under which an experiment stage's result is recorded (StoreActivities.recordStage):
 * `<experimentId>/it<iteration>/<stage>`. The CLI reads the same keys to tell whether an
 * experiment id has run before.
 */
export function stageKey(experimentId: string, iteration: number, stage: string): string {
  return `${experimentKeyPrefix(experimentId)}${iteration}/${stage}`;
}

/** What every stage key of one experiment starts with. */
export function experimentKeyPrefix(experimentId: string): string {
  return `${experimentId}/it`;
}
