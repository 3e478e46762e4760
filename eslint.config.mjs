// Lint rules that protect durability: no floating promises anywhere, and workflow code
// may not import Node built-ins or I/O modules (it must stay deterministic for replay).
// core/ is the pure domain (tree, decisions, distil, Pass@k, prompts) and contract/ what workflows
// and their clients share: no Node, no I/O either. Which folder may import which is checked by
// dependency-cruiser (.dependency-cruiser.cjs, `npm run lint:layers`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const ioModules = ['openai', 'zod', 'yaml', 'commander', 'cli-progress', '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.leafe/**', 'bin/**', 'test/fixtures/**', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Signals, queries and updates are used through their definitions in contract/, never by name.
    files: ['**/*.ts'],
    ignores: ['contract/**'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.property.name=/^(signal|query|executeUpdate|startUpdate|signalWithStart)$/][arguments.0.type='Literal']",
        message: 'Use the typed definition from contract/ (e.g. handle.query(statusQuery)), not the message name as a string.',
      }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'contract/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioModules].map((name) => ({ name, message: 'Workflow code and the contract must be deterministic: no Node built-ins or I/O modules (use an activity).' })),
      }],
    },
  },
  {
    // The branch and episode loops also run outside Temporal (the benchmark's in-process baseline):
    // they reach Temporal only through the port they are given.
    files: ['workflows/branch-loop.ts', 'workflows/episode-loop.ts', 'workflows/step-strategy.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioModules, '@temporalio/workflow'].map((name) => ({ name, message: 'The shared loops run in workflows and in-process alike: Temporal only through the port.' })),
      }],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioModules, '@temporalio/workflow'].map((name) => ({ name, message: 'core/ is the pure domain: no Node built-ins, I/O modules or Temporal.' })),
      }],
    },
  },
);
