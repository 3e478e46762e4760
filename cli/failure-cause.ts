import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TemporalFailure, TimeoutFailure, WorkflowFailedError } from '@temporalio/client';

export interface RootCause {
  /** The innermost failure's message: what actually went wrong. */
  message: string;
  /** Its type: the ApplicationFailure type (InferenceRequestRejected...), the timeout type, or the error class. */
  type: string;
  /** Where it happened, outermost first: "child workflow Y", "activity takeStep". */
  path: string[];
}

/**
 * Unwraps a Temporal failure chain (WorkflowFailedError → ChildWorkflowFailure → ActivityFailure
 * → ApplicationFailure...) down to its innermost cause: "Workflow execution failed" alone says
 * nothing about the server message three levels down.
 */
export function rootCause(err: unknown): RootCause {
  const path: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 20; depth++) {
    if (e instanceof ChildWorkflowFailure) path.push(`child workflow ${e.execution.workflowId}`);
    else if (e instanceof ActivityFailure) path.push(`activity ${e.activityType}`);
    // Only Temporal's wrappers: our own errors' causes (a spec error's underlying error) say less.
    const next = e instanceof WorkflowFailedError || e instanceof TemporalFailure ? e.cause : undefined;
    if (!(next instanceof Error)) break;
    e = next;
  }
  if (!(e instanceof Error)) return { message: String(e), type: 'Error', path };
  const type = e instanceof ApplicationFailure ? (e.type ?? 'ApplicationFailure') : e instanceof TimeoutFailure ? `Timeout (${(e.timeoutType ?? 'unknown').toLowerCase().replace(/_/g, '-')})` : e.name || 'Error';
  return { message: e.message, type, path };
}

/** One line (two with the path) for the user: the root cause first, then where it came from. */
export function failureText(err: unknown): string {
  const cause = rootCause(err);
  const head = cause.type && cause.type !== 'Error' ? `${cause.type}: ${cause.message}` : cause.message;
  return cause.path.length ? `${head}\n  (in ${cause.path.join(' > ')})` : head;
}
