import { javascript, JsonFile, typescript } from 'projen';

const CDK8S_PEERS = ['cdk8s@^2.70.0', 'constructs@^10.8.0', 'cdk8s-plus-34@^2.0.54'];

const project = new typescript.TypeScriptProject({
  name: 'inferkit',
  description: 'Model and LLM inference on Kubernetes without an inference controller: cdk8s constructs and Pulumi providers.',
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,
  // @marcbachmann/cel-js (placement's CEL selectors) is ESM-only: Node.js 20.19 is the first 20.x to require() ES modules.
  minNodeVersion: '20.19.0',
  typescriptVersion: '5.9.3',
  // Every layer of the design card is compiled, not only src/.
  srcdir: 'src',
  libdir: 'lib',
  entrypoint: 'lib/index.js',
  entrypointTypes: 'lib/index.d.ts',
  sampleCode: false,
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  licensed: true,
  license: 'Apache-2.0',
  copyrightOwner: 'inferkit authors',
  deps: ['yaml@^2.9.0', '@marcbachmann/cel-js@8.0.0', 're2js@2.10.0'],
  devDeps: [
    // ts-jest requires jest-util, a peer that npm does not hoist when other majors of it are in the tree.
    'fast-check@^4.10.0', 'cdk8s-cli@^2.207.0', 'jest-util@^29', 'highs@1.15.3', 'typedoc@^0.28.20',
    // The status tests validate each folded status against its seed CRD's JSON schema.
    'ajv@^8.20.0',
    // The tests' copies of the peers below, at the versions the lockfile already holds.
    ...CDK8S_PEERS,
    // Pinned to the engine and provider that test/cluster builds.
    '@pulumi/pulumi@3.248.0', '@pulumi/kubernetes@4.24.1',
  ],
  // The user's app and inferkit must share one cdk8s and one constructs (a construct tree is one library's objects).
  // The Pulumi ones are for inferkit/pulumi only (optional, below): a cdk8s pipeline does not need them.
  peerDeps: [...CDK8S_PEERS, '@pulumi/pulumi@^3.248.0', '@pulumi/kubernetes@^4.24.1'],
  peerDependencyOptions: { pinnedDevDependency: false },
  bin: { inferkit: 'lib/cli/inferkit.js' },
  tsconfig: {
    include: ['index.ts', 'constructs/**/*.ts', 'providers/**/*.ts', 'imports/**/*.ts', 'cli/**/*.ts'],
    // Source maps point at the TypeScript files without embedding them: the package ships no TypeScript source.
    compilerOptions: { rootDir: '.', skipLibCheck: true, inlineSources: false },
  },
  // The dev tsconfig lives in test/ and type-checks tests, examples and benchmarks together.
  tsconfigDev: {
    include: ['../examples/**/*.ts', '../bench/**/*.ts'],
    // ts-jest then only transpiles; the test task's `tsc --noEmit` does the type-checking once.
    compilerOptions: { rootDir: '..', skipLibCheck: true, isolatedModules: true },
  },
  jestOptions: {
    // Jest 30 resolves through unrs-resolver, whose per-platform bindings the registry here does not all serve,
    // which leaves `npm ci` with an incomplete lockfile; Jest 29 has no native dependency.
    jestVersion: '^29',
    junitReporting: false,
    // Snapshots change only by an explicit `npx jest -u`, never as a side effect of `npm test`.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // The integration suite has its own config (test/integration/jest.config.js): it starts a cluster.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/integration/'],
      collectCoverage: false,
      // @marcbachmann/cel-js is ESM-only and Jest 29 cannot require() ES modules: ts-jest transpiles that one package to CommonJS.
      transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
      transform: {
        '^.+/node_modules/@marcbachmann/cel-js/.+\\.js$': new javascript.Transform('ts-jest', { tsconfig: { target: 'ES2022', allowJs: true, isolatedModules: true } }),
      },
    },
  },
  eslintOptions: {
    dirs: ['src', 'constructs', 'providers', 'cli'],
    devdirs: ['test', 'examples', 'bench'],
    ignorePatterns: ['imports/**', '*.js', '*.d.ts', 'node_modules/', 'lib/', 'dist/'],
  },
  gitignore: ['dist/', 'cdk8s.out/', 'docs/api/'],
  // The package.json `files` allowlist below says what the tarball holds.
  npmignoreEnabled: false,
});

// Two entry points: the core and constructs, and the Pulumi side (which alone needs the optional Pulumi peers).
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './pulumi': { types: './lib/providers/index.d.ts', default: './lib/providers/index.js' },
  './package.json': './package.json',
});
project.package.addField('peerDependenciesMeta', { '@pulumi/pulumi': { optional: true }, '@pulumi/kubernetes': { optional: true } });

// The tarball holds the compiled JavaScript and its types; npm adds package.json, README.md and LICENSE.
project.package.addField('files', ['lib/**/*.js', 'lib/**/*.d.ts']);

// A fresh clone's `npm ci` compiles, so that `npx inferkit` works, and `npm pack` compiles before packing.
// `tsc --build` skips the work when lib/ is up to date (lib/tsconfig.tsbuildinfo).
project.package.setScript('prepare', 'tsc --build');
// `tsc` never deletes what a removed source compiled to: the tarball is packed from a clean lib/.
project.package.setScript('prepack', 'rm -rf lib && tsc --build');

// Error messages are whole sentences: long string literals are fine, long code is not.
project.eslint?.addRules({
  '@stylistic/max-len': ['error', { code: 150, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreComments: true, ignoreRegExpLiterals: true }],
});

// eslint-import-resolver-typescript pulls unrs-resolver too (see jestVersion above).
// The node resolver with TypeScript extensions resolves this project's relative imports just as well.
project.deps.removeDependency('eslint-import-resolver-typescript');
project.tryFindObjectFile('.eslintrc.json')?.addDeletionOverride('settings.import/resolver.typescript');
project.tryFindObjectFile('.eslintrc.json')?.addOverride('settings.import/resolver.node', { extensions: ['.ts', '.js'] });

// The lint's TypeScript project service looks for the nearest tsconfig.json: give examples and benchmarks one.
for (const dir of ['examples', 'bench']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: { extends: '../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '..' }, include: ['**/*.ts'] },
  });
}

// Examples and benchmarks are not imported by every test: type-check them with the tests.
project.testTask.prependExec('tsc --noEmit -p test/tsconfig.json');

// The API reference of both entry points, from the TSDoc; a warning (such as a public type that references one
// that is not exported, or a broken {@link}) fails the task.
new JsonFile(project, 'typedoc.json', {
  allowComments: true,
  obj: {
    entryPoints: ['index.ts', 'providers/index.ts'],
    out: 'docs/api',
    name: 'inferkit',
    readme: 'none',
    treatWarningsAsErrors: true,
    // The test task's `tsc --noEmit` type-checks first.
    skipErrorChecking: true,
    excludePrivate: true,
    excludeInternal: true,
    // No "Defined in" links: they need a git remote that serves the sources.
    disableSources: true,
    // Members inherited from Pulumi's resource classes link to Pulumi's reference.
    externalSymbolLinkMappings: { '@pulumi/pulumi': { '*': 'https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/' } },
  },
});
const docs = project.addTask('docs', { description: 'Generate the API reference into docs/api (fails on warnings)', exec: 'typedoc' });
project.testTask.spawn(docs);

// The integration suite runs against a real control plane built from Go modules; the build is cached.
project.testTask.exec('bash test/cluster/build.sh');
project.testTask.exec('jest -c test/integration/jest.config.js --ci');

project.addTask('cluster:up', {
  description: 'Start a test cluster (etcd, apiserver, controller-manager, scheduler, KWOK GPU nodes) until Ctrl-C',
  exec: 'bash test/cluster/build.sh && ts-node --transpile-only -P test/tsconfig.json test/harness/cluster-up.ts',
});

project.addTask('examples', {
  description: 'Synthesize every example into dist/ with cdk8s synth',
  exec: 'cdk8s synth',
});

project.addTask('import', {
  description: 'Regenerate imports/ from the CRDs of the pinned Go modules (needs Go)',
  exec: 'bash scripts/import-crds.sh',
});

const bench = project.addTask('bench', { description: 'Run the benchmarks in bench/ and print their tables' });
bench.exec('ts-node --transpile-only bench/synth.bench.ts');
bench.exec('ts-node --transpile-only bench/placement.bench.ts');
bench.exec('ts-node --transpile-only bench/optimality.bench.ts');
bench.exec('ts-node --transpile-only bench/rollout.bench.ts');
bench.exec('ts-node --transpile-only bench/hostile.bench.ts');

project.synth();
