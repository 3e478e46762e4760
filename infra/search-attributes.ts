/** The project's search attributes, registered on the dev server (and by hand on a cluster). */
export const SEARCH_ATTRIBUTES = {
  ExperimentId: 'Keyword',
  Method: 'Keyword',
  Iteration: 'Int',
  Stage: 'Keyword',
} as const;
