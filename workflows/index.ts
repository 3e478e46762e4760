// Every workflow type the workers register. Workflow code is bundled and replayed: keep it pure.
import { branchWorkflow } from './branch-workflow';
import { episodeWorkflow } from './episode-workflow';
import { evaluateWorkflow } from './evaluate-workflow';
import { experimentWorkflow } from './experiment-workflow';
import { failOnError } from './fail-on-error';
import { pingWorkflow } from './ping-workflow';
import { storedEpisodeWorkflow } from './stored-episode-workflow';

for (const workflow of [pingWorkflow, episodeWorkflow, branchWorkflow, storedEpisodeWorkflow, evaluateWorkflow, experimentWorkflow]) failOnError(workflow);

export { pingWorkflow, episodeWorkflow, branchWorkflow, storedEpisodeWorkflow, evaluateWorkflow, experimentWorkflow };
