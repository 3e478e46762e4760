// Lint rules that protect durability: no floating promises anywhere, and workflow code
// may not import Node built-ins or I/O modules (it must stay deterministic for replay).
// core/ is the pure domain (tree, decisions, distil, Pass@k, prompts): no Node, no I/O either.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const ioModules = ['openai', 'zod', 'yaml', 'commander', 'cli-progress', '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.leafe/**', 'bin/**', 'test/fixtures/**'] },
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
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioModules].map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins or I/O modules (use an activity).' })),
        patterns: [
          { group: ['../activities/*', '../infra/*', '../envs/*', '../sim/*', '../cli/*', '../workers/*', '../runtime/*'], message: 'Workflows import only workflows/ and core/ (pure logic). Activities are referenced by type only.', allowTypeImports: true },
        ],
      }],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioModules, '@temporalio/workflow'].map((name) => ({ name, message: 'core/ is the pure domain: no Node built-ins, I/O modules or Temporal.' })),
        patterns: [
          // Type-only imports from workers/ and sim/ remain until the contract layer exists (issue 15).
          { group: ['../*', '!../core'], message: 'core/ imports only core/ (the pure domain is the bottom layer).', allowTypeImports: true },
        ],
      }],
    },
  },
);
