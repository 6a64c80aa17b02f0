// Lint: typescript-eslint's recommended type-aware rules, plus the purity boundary of src/machines and src/policy.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impure = {
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: ['node:*', 'fs', 'path', 'child_process', 'net', 'http', 'os'],
          message: 'Machines and policies are pure: no Node I/O.',
        },
        {
          // The protocol's message types are data; only the SDK's code does I/O.
          group: ['@modelcontextprotocol/*'],
          allowTypeImports: true,
          message: 'Machines and policies are pure: I/O belongs in src/actors.',
        },
        {
          group: ['@nats-io/*', 'pino', 'pino-*'],
          message: 'Machines and policies are pure: I/O belongs in src/actors.',
        },
        { group: ['**/actors/*', '**/cli/*', '**/server/*', '**/store/*'], message: 'Dependencies point inward.' },
      ],
    },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'Use the actor system clock.' },
    { name: 'setInterval', message: 'Use the actor system clock.' },
    { name: 'clearTimeout', message: 'Use the actor system clock.' },
    { name: 'process', message: 'Machines do not read the process.' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'Time comes from the clock.' },
    { object: 'Math', property: 'random', message: 'Randomness comes from the injected source.' },
    { object: 'performance', property: 'now', message: 'Time comes from the clock.' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date']", message: 'Time comes from the clock.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.retrace/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },
  { files: ['src/machines/**/*.ts', 'src/policy/**/*.ts'], rules: impure },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
