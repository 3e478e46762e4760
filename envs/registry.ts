import type { EnvSpec } from '../core/env-spec';
import type { EnvironmentProvider } from '../contract/environment-port';
import { createCodeProvider } from './code/code-provider';
import { createSokobanProvider } from './sokoban/sokoban-provider';
import { createHttpProvider } from './http/http-provider';

/** Providers are cached per spec: loading a task file or generating levels happens once per process. */
const cache = new Map<string, EnvironmentProvider>();

export function providerFor(spec: EnvSpec): EnvironmentProvider {
  const key = JSON.stringify(spec);
  let provider = cache.get(key);
  if (!provider) {
    provider = create(spec);
    cache.set(key, provider);
  }
  return provider;
}

function create(spec: EnvSpec): EnvironmentProvider {
  switch (spec.kind) {
    case 'code':
      return createCodeProvider(spec);
    case 'sokoban':
      return createSokobanProvider(spec);
    case 'http':
      return createHttpProvider(spec);
  }
}
