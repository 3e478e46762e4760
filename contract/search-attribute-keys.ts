import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The one list of leafe's search attributes: workflows upsert them, runtime/search-attributes.ts
// registers exactly these on the dev server and the cluster.
export const ExperimentIdKey = defineSearchAttributeKey('ExperimentId', SearchAttributeType.KEYWORD);
export const MethodKey = defineSearchAttributeKey('Method', SearchAttributeType.KEYWORD);
export const IterationKey = defineSearchAttributeKey('Iteration', SearchAttributeType.INT);
export const StageKey = defineSearchAttributeKey('Stage', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [ExperimentIdKey, MethodKey, IterationKey, StageKey] as const;
