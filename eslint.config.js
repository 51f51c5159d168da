// The layering written down as checks (run by `npm test` before the tests, and by `npm run lint`):
// - src/contracts is a leaf: at run time it imports nothing of the project's; types only.
// - workflows/ import values only from src/contracts, @temporalio/workflow (and @temporalio/common, which it builds
//   on) and each other; types from anywhere. No Node built-ins or I/O modules: the workflow sandbox is deterministic.
// - nothing under src/ imports src/cli/; nothing under src/ but the worker wiring imports activities/ or workflows/.
// - no import cycles anywhere; type-only imports are written as such.
import tseslint from 'typescript-eslint';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['node_modules/**', '.relearn/**', '.relearn-test/**', 'bench/results/**', 'bench/.cache/**', 'scratch/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      // Without these the import rules cannot follow a .ts import, and no-cycle would pass without looking.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ['./src/!(cli)/**/*', './src/*.ts'],
              from: './src/cli',
              message: 'core code must not depend on the CLI; move what both need into src/ or src/contracts',
            },
            {
              target: ['./src/!(temporal)/**/*', './src/*.ts', './src/temporal/!(worker).ts'],
              from: ['./workflows', './activities'],
              message: 'only the worker wiring (src/temporal/worker.ts) imports activities/ or workflows/; shared types live in src/contracts',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/contracts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./',
              allowTypeImports: true,
              message: 'src/contracts is a leaf: import only types from the rest of the project',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'import-x/no-nodejs-modules': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Anything but the SDK's workflow-side packages, sibling workflow files and the contracts.
              regex: '^(?!@temporalio/(workflow|common)$|\\./|\\.\\./src/contracts(/|$))',
              allowTypeImports: true,
              message: 'workflow code imports values only from src/contracts and @temporalio/workflow (types from anywhere): the bundle must stay deterministic and free of I/O',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./workflows(/|$)', message: 'activities do not depend on workflow code; shared types live in src/contracts' }] },
      ],
    },
  },
);
