// Lint rules, including the layer rules of the one-way flow:
// the KMP codec is pure and imports nothing outside src/kmp.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['src/kmp/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', '../*'], message: 'The KMP codec is pure: no I/O, no imports outside src/kmp.' },
        ],
      }],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'Date', 'process', 'console'],
    },
  },
  {
    files: ['src/registers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['node:*', '../links/*', '../meter/*', '../simulator/*', '../cli/*'], message: 'The register catalogue depends only on the codec.' }],
      }],
    },
  },
);
