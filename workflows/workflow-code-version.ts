/**
 * Every patch id the workflow code has ever passed to `patched()` / `deprecatePatch()`, oldest
 * first. Append a new id here when you add a patch; never remove or reorder one (ids are never
 * reused, docs/versioning.md). test/history-fixtures.test.ts checks that every id in workflows/ is
 * listed.
 */
export const WORKFLOW_PATCHES = ['take-step', 'close-session-on-cancel'] as const;

/**
 * The version label of workflow code that knows the first `patches` patches: `v0` before any,
 * then `v<n>-<newest patch id>`. Command sequences only change behind a patch (or in a new
 * workflow type), so this label says which paths a recorded history can take.
 */
export function workflowCodeVersion(patches: number = WORKFLOW_PATCHES.length): string {
  return patches === 0 ? 'v0' : `v${patches}-${WORKFLOW_PATCHES[patches - 1]}`;
}

/** The version of the code in this tree: recorded histories go to test/fixtures/histories/<type>/<this>/. */
export const WORKFLOW_CODE_VERSION = workflowCodeVersion();
