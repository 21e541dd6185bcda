import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='parseFloat']",
          message: 'Credits and money are integers: never parseFloat.',
        },
      ],
    },
  },
  {
    // The dependency rule (STYLE.md): core is pure, ledger knows no adapter.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/ledger/**', '**/store/**', '**/cli/**', 'node:*', 'better-sqlite3', 'pg'],
              message: 'core/ is pure: no I/O, no Node APIs and no outer layers.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'core/ reads no clock: take the time as an argument.',
        },
        { object: 'Math', property: 'random', message: 'core/ is deterministic: no randomness.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'core/ reads no clock.',
        },
        {
          selector: "CallExpression[callee.name='parseFloat']",
          message: 'Credits and money are integers: never parseFloat.',
        },
      ],
    },
  },
  {
    files: ['src/ledger/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/store/**', '**/cli/**', 'better-sqlite3', 'pg'],
              message: 'ledger/ defines the Store port; it never imports an adapter.',
            },
          ],
        },
      ],
    },
  },
  {
    // The SDK runs in browsers: at run time it may import only its own files. Types from the
    // server's schemas are fine (erased). The webhooks entry is for Node receivers.
    files: ['src/client/**/*.ts'],
    ignores: ['src/client/webhooks.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./[a-z-]+\\.js$)',
              allowTypeImports: true,
              message: 'src/client/ is browser-safe: import other modules as types only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The dependency rule for the dashboard: web -> client -> HTTP. At run time it imports
    // the SDK and its own files; anything of the server only as types.
    files: ['web/src/**/*.ts', 'web/src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./.*src/(?!client/)',
              allowTypeImports: true,
              message: 'web/ talks to the server through src/client: other modules as types only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs', '*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
