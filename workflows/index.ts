// Every workflow type the workers register. Workflow code is bundled and replayed: keep it pure.
import { branchWorkflow } from './branch-workflow';
import { episodeWorkflow } from './episode-workflow';
import { evaluateWorkflow } from './evaluate-workflow';
import { experimentWorkflow } from './experiment-workflow';
import { failOnError } from './fail-on-error';
import { pingWorkflow } from './ping-workflow';
import { storedEpisodeWorkflow } from './stored-episode-workflow';
import type { WorkflowTypes } from '../contract/workflow-types';

// The signatures clients start them with (contract/workflow-types.ts) are these workflows' own.
const registered: WorkflowTypes = { pingWorkflow, episodeWorkflow, branchWorkflow, storedEpisodeWorkflow, evaluateWorkflow, experimentWorkflow };
for (const workflow of Object.values(registered)) failOnError(workflow);

export { pingWorkflow, episodeWorkflow, branchWorkflow, storedEpisodeWorkflow, evaluateWorkflow, experimentWorkflow };
