// Lint rules, including the layer rules of the one-way flow
//   links → kmp (codec) → registers → meter (client) → acquisition → store → delivery → sinks,
//   composed by app, driven by cli
// The codec is pure and imports nothing outside src/kmp; the simulator plays the meter's end
// and sees only the codec and the link interface.
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
      // A devDependency: its types check the dashboards, but nothing of it may load at run time.
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['@grafana/schema', '@grafana/schema/*'], allowTypeImports: true, message: '@grafana/schema is a devDependency: import type only.' }],
      }],
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
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'performance', 'Date', 'process', 'console'],
    },
  },
  layer('src/time/**/*.ts', ['node:*', '../*'], 'Time zone arithmetic is pure: no I/O, no other layer.'),
  layer('src/consumption/**/*.ts', ['node:*', '../kmp/*', '../links/*', '../registers/*', '../meter/*', '../acquisition/*', '../store/*', '../delivery/*', '../sinks/**', '../simulator/*', '../config/*', '../log/*', '../app/*', '../cli/*'], 'Consumption figures are pure: readings in, figures out; the store keeps them.'),
  layer('src/registers/**/*.ts', ['node:*', '../links/*', '../meter/*', '../simulator/*', '../app/*', '../cli/*'], 'The register catalogue depends only on the codec.'),
  layer('src/links/**/*.ts', ['../registers/*', '../meter/*', '../simulator/*', '../app/*', '../cli/*'], 'Links move bytes; they know the codec at most.'),
  layer('src/meter/**/*.ts', ['../simulator/*', '../app/*', '../cli/*'], 'The meter client gets its link passed in; choosing one is the app layer\'s job.'),
  layer('src/simulator/**/*.ts', ['../registers/*', '../meter/*', '../app/*', '../cli/*'], 'The simulator plays the meter: codec and link interface only.'),
  layer('src/app/**/*.ts', ['../cli/*'], 'The app layer composes; the CLI uses it, not the other way round.'),
  layer('src/config/**/*.ts', ['../meter/*', '../links/*', '../simulator/*', '../store/*', '../acquisition/*', '../log/*', '../cli/*', '../app/*', '!../app/meter-url.js', '!../store/storage-file.js'], 'Config reads and checks the file: registers, meter URLs, the storage file\'s kind and the codec only.'),
  layer('src/acquisition/**/*.ts', ['../sinks/*', '../sinks/**', '../delivery/*', '../simulator/*', '../app/*', '../cli/*'], 'Acquisition never calls a sink: it meets delivery only in the store.'),
  layer('src/delivery/**/*.ts', ['../meter/*', '../links/*', '../simulator/*', '../acquisition/*', '../app/*', '../cli/*'], 'Delivery never touches a meter: it drains the store.'),
  layer('src/sinks/**/*.ts', ['../../meter/*', '../../links/*', '../../simulator/*', '../../acquisition/*', '../../app/*', '../../cli/*', '../meter/*', '../links/*', '../simulator/*', '../acquisition/*', '../app/*', '../cli/*'], 'A sink knows its server and the delivery interface, never a meter.'),
  layer('src/store/**/*.ts', ['../meter/*', '../simulator/*', '../app/*', '../cli/*', '../links/*', '../config/*'], 'The store keeps readings: it knows the codec and the catalogue, never a meter or a link.'),
);

function layer(files, forbidden, message) {
  return {
    files: [files],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }] },
  };
}
