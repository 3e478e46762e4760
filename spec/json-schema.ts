import { z } from 'zod';
import { experimentSpecSchema } from './experiment-spec-schema';

/** JSON Schema of the experiment spec, generated from the zod definition (for editors). */
export function experimentSpecJsonSchema(): Record<string, unknown> {
  return {
    title: 'leafe experiment spec',
    ...z.toJSONSchema(experimentSpecSchema, { io: 'input', unrepresentable: 'any' }),
  };
}
