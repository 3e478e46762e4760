/**
 * Every ApplicationFailure type leafe throws, spelt once: one layer throws it and another (a
 * workflow, the CLI, a test) recognises it, so a typo must be a compile error, not a silent miss.
 */

/**
 * The worker holding an environment session cannot continue it (restarted, or its environment
 * step failed); the branch re-opens the session elsewhere and replays.
 */
export const SESSION_LOST = 'SessionLost';
/** A workflow asked its own environment session for a step before opening it (a workflow bug). */
export const SESSION_NOT_OPEN = 'SessionNotOpen';
/** A step's input or result contradicts the branch's own state (a bug, not a transient fault). */
export const INCONSISTENT_STEP = 'InconsistentStep';
/** evaluateWorkflow got an input it cannot run (checked before any episode starts). */
export const INVALID_EVALUATE_INPUT = 'InvalidEvaluateInput';
/** The code sandbox cannot isolate programs on this worker (also the Error's name). */
export const SANDBOX_REFUSED = 'SandboxRefused';

/** Inference: the worker's LEAFE_INFERENCE_KEYS cannot be read. */
export const INFERENCE_KEYS_INVALID = 'InferenceKeysInvalid';
/** Inference: the worker refuses to send the named key to this server. */
export const INFERENCE_KEY_REFUSED = 'InferenceKeyRefused';
/** Inference: the server rejected the request (4xx other than timeouts and rate limits); not retried. */
export const INFERENCE_REQUEST_REJECTED = 'InferenceRequestRejected';
/** Inference, retried: no complete response within inference.timeoutMs (the whole request, body included). */
export const INFERENCE_TIMEOUT = 'InferenceTimeout';
/** Inference, retried: the server cannot be reached. */
export const INFERENCE_UNREACHABLE = 'InferenceUnreachable';
/** Inference, retried: the server answered with an error status. */
export const INFERENCE_SERVER_ERROR = 'InferenceServerError';
/** Inference, retried: the answer is not JSON. */
export const INFERENCE_BAD_RESPONSE = 'InferenceBadResponse';

/** A path built from ids would leave the run directory (also the Error's name in infra/paths.ts); not retried. */
export const PATH_OUTSIDE_RUN_DIR = 'PathOutsideRunDir';

/** Deploy: the vLLM server rejected loading the adapter; not retried. */
export const DEPLOY_REJECTED = 'DeployRejected';
/** Training: the trainer command is misconfigured; not retried. */
export const TRAINER_CONFIG_ERROR = 'TrainerConfigError';
/** Training, retried: the trainer process crashed (resumes from its last checkpoint). */
export const TRAINER_CRASH_ERROR = 'TrainerCrashError';
/** An iteration's distillation produced no records to train on. */
export const EMPTY_DATASET = 'EmptyDataset';
/** Replaying the same actions in a re-opened environment gave a different trajectory. */
export const NONDETERMINISTIC_ENVIRONMENT = 'NondeterministicEnvironment';
