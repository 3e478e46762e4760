import type { SokobanEnvSpec } from '../../core/env-spec';
import type { EnvironmentProvider } from '../environment';

// Placeholder until the sokoban environment lands.
export function createSokobanProvider(spec: SokobanEnvSpec): EnvironmentProvider {
  throw new Error(`environment '${spec.kind}' is not implemented yet`);
}
