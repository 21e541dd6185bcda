import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Database drivers: only the adapters under src/store/ talk to them. */
const DRIVERS = ['better-sqlite3', 'pg'];

/**
 * An adapter is anything under src/store/ except open.ts, the one place that chooses a store
 * (STYLE.md: only entry points choose a store). A regex, for that one exception; it needs the
 * slash after "store", so the ledger's own port (./store.js) is not taken for the folder.
 */
const ADAPTER = '(^|/)store/(?!open\\.js$)';

/** One `no-restricted-imports` setting: the layers and packages a folder may not import. */
function layerRule(message, { layers = [], adapters = false, drivers = true, extra = [] }) {
  const group = [...layers.map((l) => `**/${l}/**`), ...(drivers ? DRIVERS : []), ...extra];
  const patterns = [{ group, message }];
  if (adapters) patterns.push({ regex: ADAPTER, message });
  return ['error', { patterns }];
}

/**
 * The port types that carry secrets (API key hashes; the write side, which reads webhook
 * secrets and key hashes): only ledger/ and the adapters that implement the port use them.
 */
const SECRET_PORT_TYPES = {
  regex: '(^|/)ledger/store\\.js$',
  importNames: ['ApiKeyRecord', 'WriteTx'],
  message: 'Port types that carry secrets stay inside ledger/ and store/.',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
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
      // Type-aware rules, chosen for what they catch here rather than the whole type-checked
      // preset (whose no-unsafe-* rules would flag every JSON.parse and SQL row for little
      // gain). A promise nobody awaits is a write that may be acknowledged before its commit,
      // or an error that vanishes; a promise passed where a callback's result is ignored
      // (an event handler, forEach) is the same bug in disguise; awaiting a non-promise and a
      // type assertion that changes nothing hide what the code really does. node:test's
      // describe and it return promises the runner itself waits for.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
    },
  },
  {
    // Functions stay short (STYLE.md: about 70 lines at most), blank lines and comments aside.
    // Tests and benchmarks are exempt: a describe block is a list of cases, not logic.
    files: ['src/**/*.ts', 'web/src/**/*.ts', 'web/src/**/*.tsx', 'web/embed/**/*.tsx'],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 70, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
  {
    // The dependency rule (STYLE.md): core is pure.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': layerRule(
        'core/ is pure: no I/O, no Node APIs and no outer layers.',
        { layers: ['ledger', 'store', 'service', 'http', 'cli', 'client'], extra: ['node:*'] },
      ),
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
    // ledger/ defines the ports it needs and knows no adapter and no outer layer.
    files: ['src/ledger/**/*.ts'],
    rules: {
      'no-restricted-imports': layerRule(
        'ledger/ defines the Store port; it imports no adapter and no outer layer.',
        { layers: ['store', 'service', 'http', 'cli', 'client'] },
      ),
    },
  },
  {
    // The adapters implement the ledger's port over core's types, and nothing above them.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': layerRule('store/ implements the ledger port: no outer layers.', {
        layers: ['service', 'http', 'cli', 'client'],
        drivers: false,
      }),
    },
  },
  {
    // service/ sits on the ledger: no HTTP, no CLI, and a store only from store/open.ts.
    files: ['src/service/**/*.ts'],
    rules: {
      'no-restricted-imports': layerRule(
        'service/ uses the ledger: no http/ or cli/, no adapter (a store comes from store/open.ts or the caller).',
        { layers: ['http', 'cli', 'client'], adapters: true },
      ),
    },
  },
  {
    // http/ and cli/ are entry points: they open a store through store/open.ts only. The CLI
    // may start the HTTP server (amisi serve); the server never imports the CLI.
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': layerRule(
        'http/ opens no adapter (store/open.ts does) and never imports cli/.',
        { layers: ['cli', 'client'], adapters: true },
      ),
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': layerRule('cli/ opens no adapter: store/open.ts does.', {
        layers: ['client'],
        adapters: true,
      }),
    },
  },
  {
    // SECRET_PORT_TYPES stay out of service/, http/ and cli/ (client/ and web/src: below).
    // The key check (service/api-keys.ts) is the one place outside ledger/ that reads a key's
    // hash: it makes keys and checks them. Store's own readers still return webhook secrets to
    // whoever holds a Store; nothing outside ledger/ holds one (Ledger keeps it private).
    files: ['src/service/**/*.ts', 'src/http/**/*.ts', 'src/cli/**/*.ts'],
    ignores: ['src/service/api-keys.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [SECRET_PORT_TYPES],
        },
      ],
    },
  },
  {
    // Registration closures are lists, not logic: a Fastify plugin `(app) => { app.get(...);
    // app.post(...) }` or a commander `register(program)` adds one short handler after another,
    // and splitting the list would only scatter one resource's routes or one command group's
    // subcommands. The handlers inside stay thin (they call one use-case each).
    files: ['src/http/routes/**/*.ts', 'src/cli/commands/**/*.ts'],
    rules: { 'max-lines-per-function': 'off' },
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
      // The base rule: the one above lets every type import through.
      'no-restricted-imports': ['error', { patterns: [SECRET_PORT_TYPES] }],
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
      // The base rule: the one above lets every type import through.
      'no-restricted-imports': ['error', { patterns: [SECRET_PORT_TYPES] }],
    },
  },
  {
    // The embedded components: the dashboard's own pieces (web/src) and the SDK at run time,
    // anything else of the server as types only; the same secrets rule.
    files: ['web/embed/**/*.ts', 'web/embed/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./\\.\\./src/(?!client/)',
              allowTypeImports: true,
              message:
                'web/embed talks to the server through src/client: other modules as types only.',
            },
          ],
        },
      ],
      'no-restricted-imports': ['error', { patterns: [SECRET_PORT_TYPES] }],
    },
  },
  {
    // The reference model of the model-based test is written from the documented rules, not
    // from src/: it shares no code with what it checks (its driver, model-run.ts, imports the
    // ledger to drive it).
    files: ['test/ledger/reference-model.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/src/**'], message: 'The reference model shares no code with src/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'examples/**/*.mjs', '*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
