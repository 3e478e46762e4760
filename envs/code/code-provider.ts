import type { CodeEnvSpec } from '../../core/env-spec';
import type { EnvironmentProvider } from '../environment';

// Placeholder until the code environment lands.
export function createCodeProvider(spec: CodeEnvSpec): EnvironmentProvider {
  throw new Error(`environment '${spec.kind}' is not implemented yet`);
}
