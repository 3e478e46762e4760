/**
 * ApplicationFailure types that one layer throws and another recognises (so they must be spelt
 * once). SessionLost: the worker holding an environment session cannot continue it (restarted,
 * or its environment step failed); the branch re-opens the session elsewhere and replays.
 */
export const SESSION_LOST = 'SessionLost';
