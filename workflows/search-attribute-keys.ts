import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the dev server by infra/search-attributes.ts (same names and types).
export const ExperimentIdKey = defineSearchAttributeKey('ExperimentId', SearchAttributeType.KEYWORD);
export const MethodKey = defineSearchAttributeKey('Method', SearchAttributeType.KEYWORD);
export const IterationKey = defineSearchAttributeKey('Iteration', SearchAttributeType.INT);
export const StageKey = defineSearchAttributeKey('Stage', SearchAttributeType.KEYWORD);
