// Type-aware lint: floating promises and type-only imports are errors from day one.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A string or template that starts like SQL: such text belongs in a src/store module. */
const SQL_OUTSIDE_STORE = ['Literal', 'TemplateLiteral > TemplateElement:first-child'].map((node) => ({
  selector: `${node}[${node === 'Literal' ? 'value' : 'value.raw'}=/^\\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\\s/]`,
  message: 'SQL belongs in a src/store module: call a store function instead.',
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', 'test/e2e/screenshots/**', 'src/server/public/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' }],
    },
  },
  {
    files: ['src/config.ts', 'test/**', 'bench/**', 'vitest.config.ts', 'src/sandbox/config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // A function a reader can hold in their head: split along its seams past 80 lines.
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }] },
  },
  {
    // SQL lives in src/store only. SOQL lives in the Salesforce adapter; the sandbox keeps its own
    // tables; the demo acts as the sandbox org's users (in SOQL).
    files: ['src/**/*.ts', 'webhooks/**/*.ts', 'workers/**/*.ts'],
    ignores: ['src/store/**', 'src/crm/salesforce/**', 'src/sandbox/**', 'src/startup/demo.ts'],
    rules: { 'no-restricted-syntax': ['error', ...SQL_OUTSIDE_STORE] },
  },
  { files: ['**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
);
