// Which folder may import which: the layers of docs/architecture.md, checked by `npm run lint:layers`
// (part of `npm test`). Imports point down only, type-only imports included, and nothing forms a
// cycle. A folder that is not listed here fails the check until it is given a place.

/** Each folder and the folders below it that it may import (it may always import itself). */
const mayImport = {
  // pure domain: tree, decisions, distil, Pass@k, prompts, templates
  core: [],
  // what workflows and their clients share: queues, messages, workflow/activity types, failure names, settings
  contract: ['core'],
  // Node helpers for the run directory: artifact store, atomic files, paths
  infra: ['core', 'contract'],
  // Temporal workflow code (deterministic) and the activities it schedules
  workflows: ['core', 'contract'],
  activities: ['core', 'contract', 'infra'],
  // adapters: environments, the inference client, the trainer runner, the simulator
  envs: ['core', 'contract', 'infra'],
  inference: ['core', 'contract', 'infra'],
  trainer: ['core', 'contract', 'infra'],
  sim: ['core', 'contract', 'infra', 'envs'],
  // one local stack: Temporal server or cluster, workflow bundle, workers
  runtime: ['core', 'contract', 'infra', 'activities', 'envs', 'inference', 'trainer'],
  // the edge: spec validation, reports, the command line, and the tools around them
  spec: ['core', 'contract', 'infra', 'envs', 'runtime'],
  report: ['core', 'contract', 'infra'],
  cli: ['core', 'contract', 'infra', 'envs', 'inference', 'sim', 'runtime', 'spec', 'report'],
  bench: ['core', 'contract', 'infra', 'workflows', 'activities', 'envs', 'inference', 'trainer', 'sim', 'runtime', 'spec', 'report', 'cli'],
  scripts: ['core', 'contract', 'infra', 'workflows', 'activities', 'envs', 'inference', 'trainer', 'sim', 'runtime', 'spec', 'report', 'cli', 'bench'],
  test: ['core', 'contract', 'infra', 'workflows', 'activities', 'envs', 'inference', 'trainer', 'sim', 'runtime', 'spec', 'report', 'cli', 'bench', 'scripts'],
};

const folders = Object.keys(mayImport);
const anyFolder = `^(${folders.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...folders.map((folder) => ({
      name: `${folder}-imports-down-only`,
      comment: `${folder}/ may import only ${[folder, ...mayImport[folder]].join(', ')} (see docs/architecture.md)`,
      severity: 'error',
      from: { path: `^${folder}/` },
      to: { path: anyFolder, pathNot: `^(${[folder, ...mayImport[folder]].join('|')})/` },
    })),
    {
      name: 'no-unplaced-folder',
      comment: 'every imported project file lives in a folder of the layer map (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: anyFolder },
      to: { path: '^[^/]+/', pathNot: `${anyFolder}|^node_modules/`, dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-unplaced-module',
      comment: 'every project module lives in a folder of the layer map (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { pathNot: `${anyFolder}|^[^/]+$` },
      to: {},
    },
    {
      name: 'no-cycle',
      comment: 'modules that import each other, directly or around a circle, cannot be understood or changed one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(test/fixtures|python|node_modules|\.leafe|deploy|docs|examples|bin)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
