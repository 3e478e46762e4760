/**
 * Typed failures of AgentGym servers. The environment decides from the type alone whether
 * a call can be repaired (re-create + replay) or must surface.
 */

/** Base class: every message names the URL that failed. */
export class AgentGymError extends Error {
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** HTTP 200 with `{"error": "..."}`: the server's own way of reporting failures. */
export class AgentGymServerError extends AgentGymError {
  constructor(
    url: string,
    readonly serverMessage: string,
  ) {
    super(`AgentGym server at ${url} replied with error: ${serverMessage}`, url);
  }
}

/**
 * The server does not know our env id (any more): it was restarted, or the session was
 * deleted. Repaired by re-creating the session and replaying the actions.
 */
export class AgentGymSessionLostError extends AgentGymError {
  constructor(
    url: string,
    readonly envId: number,
    readonly detail: string,
  ) {
    super(`AgentGym server at ${url} no longer knows env id ${envId}: ${detail}`, url);
  }
}

/** Any other non-2xx status (after 503 retries ran out, or 404/422/500...). */
export class AgentGymHttpError extends AgentGymError {
  constructor(
    url: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`AgentGym server at ${url} answered HTTP ${status}: ${body.slice(0, 300) || '(empty body)'}`, url);
  }
}

/**
 * The request did not get an answer. `delivered` says whether the server may have acted on
 * it: 'no' for refused connections (safe to resend), 'maybe' for timeouts and dropped
 * connections (a step must not be resent blindly).
 */
export class AgentGymTransportError extends AgentGymError {
  constructor(
    url: string,
    readonly delivered: 'no' | 'maybe',
    detail: string,
    cause?: unknown,
  ) {
    super(`AgentGym server at ${url} could not be reached (${detail})`, url, { cause });
  }
}

/** A reply that does not have the shape the dialect expects. */
export class AgentGymProtocolError extends AgentGymError {}

/** Replaying the recorded actions did not reproduce the recorded observations. */
export class AgentGymReplayMismatchError extends AgentGymError {}
