/**
 * Sokoban tasks: the levels of a file (ids "<file basename>#<index>", 0-based in file order)
 * or `count` generated levels (ids "sokoban-<seed>-<i>"). Levels are fixed by the task id;
 * the `seed` of open() is not needed because the game has no randomness.
 */
import { basename } from 'node:path';
import type { SokobanEnvSpec } from '../../core/env-spec';
import { deriveSeed } from '../../core/random';
import type { Environment, EnvironmentProvider } from '../../contract/environment-port';
import type { SokobanLevel } from './sokoban-level';
import { SokobanEnvironment } from './sokoban-environment';
import { DEFAULT_GENERATOR, generateLevel, validateGeneratorOptions } from './sokoban-generator';
import { loadLevelFile } from './sokoban-level-file';
import { sokobanText } from './sokoban-templates';

export const DEFAULT_LEVEL_COUNT = 10;

/** Exploration defaults for `leafe explore --env sokoban` (solutions take tens of moves); explicit flags win. */
export const SOKOBAN_EXPLORE_DEFAULTS = { horizon: 30, budget: 90 } as const;

export function createSokobanProvider(spec: SokobanEnvSpec): EnvironmentProvider {
  const levels = new Map<string, () => SokobanLevel>();
  if (spec.levels !== undefined) {
    const name = basename(spec.levels);
    for (const entry of loadLevelFile(spec.levels)) levels.set(`${name}#${entry.index}`, () => entry.level);
  } else {
    const count = spec.count ?? DEFAULT_LEVEL_COUNT;
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`sokoban count = ${JSON.stringify(spec.count)}; expected a positive integer`);
    }
    const seed = spec.seed ?? 0;
    const params = { width: spec.width ?? DEFAULT_GENERATOR.width, height: spec.height ?? DEFAULT_GENERATOR.height, boxes: spec.boxes ?? DEFAULT_GENERATOR.boxes, seed };
    validateGeneratorOptions(params);
    for (let i = 0; i < count; i++) {
      // Generated lazily (and once): listing 10k tasks must not generate 10k levels.
      let cached: SokobanLevel | null = null;
      levels.set(`sokoban-${seed}-${i}`, () => (cached ??= generateLevel({ ...params, seed: deriveSeed('sokoban', seed, i) })));
    }
  }
  const ids = [...levels.keys()];
  return {
    kind: 'sokoban',
    async listTasks(limit?: number): Promise<string[]> {
      return limit === undefined ? [...ids] : ids.slice(0, Math.max(0, limit));
    },
    async open(taskId: string, _seed: number): Promise<Environment> {
      const level = levels.get(taskId);
      if (!level) {
        const sample = ids.slice(0, 3).join(', ');
        throw new Error(`sokoban task id ${JSON.stringify(taskId)} is unknown; expected one of ${ids.length} ids such as ${sample}`);
      }
      return new SokobanEnvironment(level());
    },
    instructions(): string {
      return sokobanText('instructions');
    },
  };
}
