import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Tests read JSON responses loosely.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // DESIGN.md §2: the engine core is framework-free and never reads the process environment.
    files: ['engine/src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'engine/src/core is framework-free: no NestJS imports.' },
            { group: ['fastify', 'fastify/*'], message: 'engine/src/core has no HTTP: keep it in modules/.' },
            { group: ['**/modules/**'], message: 'core must not depend on the NestJS shell.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'core receives configuration; it never reads process.env.' },
      ],
    },
  },
  {
    // DESIGN.md §2: operator builders, validation and status are pure: no cluster I/O.
    files: ['operator/src/{manifests,validation,status}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@kubernetes/client-node'], message: 'pure operator code does no cluster I/O.' },
            { group: ['**/handlers/**', '**/kube/**'], message: 'pure operator code does no cluster I/O.' },
          ],
        },
      ],
    },
  },
);
