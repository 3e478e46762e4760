// What binds an experiment id (core/experiment-fingerprint.ts): fields that change what a stage
// computes count, fields that change only how the work runs do not.
import { expect, test } from 'vitest';
import type { ExperimentConfig } from '../contract/experiment-config';
import { canonicalJson, resultDefiningSpec, specDifferences } from '../contract/experiment-fingerprint';
import { DEFAULT_LEAFE_SETTINGS, DEFAULT_SAMPLING } from '../core/leafe-settings';

const BASE: ExperimentConfig = {
  name: 'fp',
  env: { kind: 'sokoban', count: 4, width: 6, height: 6, boxes: 1, seed: 1 },
  trainTasks: ['a', 'b'],
  evalTasks: ['c'],
  inference: { ...DEFAULT_SAMPLING, baseUrl: 'http://127.0.0.1:1111/v1', model: 'm', apiKeyEnv: 'KEY' },
  leafe: DEFAULT_LEAFE_SETTINGS,
  distil: { requireSuccess: true, beta: 1 },
  trainer: { kind: 'command', command: ['train', '{{dataset}}'], baseModel: 'base', hyperparameters: { lr: 1e-4 }, env: { PATH: '/a' } },
  deploy: { kind: 'vllm-lora', baseUrl: 'http://127.0.0.1:1111/v1' },
  evaluation: { samples: 2, ks: [1, 2], horizon: 8 },
  iterations: 2,
  seed: 5,
  concurrency: { episodes: 4 },
  runDir: '/tmp/a',
};

const same = (a: ExperimentConfig, b: ExperimentConfig) => canonicalJson(resultDefiningSpec(a, null)) === canonicalJson(resultDefiningSpec(b, null));

test('how the work runs does not count: endpoints, key names, timeouts, concurrency, runDir, iterations, the trainer process environment', () => {
  const other: ExperimentConfig = {
    ...BASE,
    name: 'renamed',
    inference: { ...BASE.inference, baseUrl: 'http://127.0.0.1:2222/v1', apiKeyEnv: 'OTHER', timeoutMs: 5, requestsFrom: 'llm-workers' },
    trainer: { ...BASE.trainer, env: { PATH: '/b' } } as ExperimentConfig['trainer'],
    deploy: { kind: 'vllm-lora', baseUrl: 'http://other/v1', apiKeyEnv: 'K2' },
    iterations: 5,
    concurrency: { episodes: 1 },
    runDir: '/tmp/b',
    timeouts: { llmMaxAttempts: 3 },
  };
  expect(same(BASE, other)).toBe(true);
});

test('what a stage computes counts, and the differences are named with old and new values', () => {
  const changed: ExperimentConfig = { ...BASE, trainTasks: ['a', 'b', 'd'], leafe: { ...BASE.leafe, budget: 99 }, seed: 6, inference: { ...BASE.inference, temperature: 0.1 } };
  expect(same(BASE, changed)).toBe(false);
  expect(specDifferences(resultDefiningSpec(BASE, null), resultDefiningSpec(changed, null))).toEqual([
    'inference.temperature (0.7 → 0.1)',
    `leafe.budget (${BASE.leafe.budget} → 99)`,
    'seed (5 → 6)',
    'tasks.train (2 items → 3 items)',
  ]);
  // The simulator's seed and skill decide what it answers.
  expect(specDifferences(resultDefiningSpec(BASE, { seed: 1 }), resultDefiningSpec(BASE, { seed: 2 }))).toEqual(['simulator.seed (1 → 2)']);
});
