// Every workflow type the workers register. Workflow code is bundled and replayed: keep it pure.
export { pingWorkflow } from './ping-workflow';
export { episodeWorkflow } from './episode-workflow';
export { branchWorkflow } from './branch-workflow';
export { storedEpisodeWorkflow } from './stored-episode-workflow';
export { evaluateWorkflow } from './evaluate-workflow';
export { experimentWorkflow } from './experiment-workflow';
