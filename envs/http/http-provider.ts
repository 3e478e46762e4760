import type { HttpEnvSpec } from '../../core/env-spec';
import type { EnvironmentProvider } from '../environment';

// Placeholder until the http environment lands.
export function createHttpProvider(spec: HttpEnvSpec): EnvironmentProvider {
  throw new Error(`environment '${spec.kind}' is not implemented yet`);
}
