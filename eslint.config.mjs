// Lint for the add-in (Apps Script: one global scope across files), its pages' scripts, and its Node tests.
import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    ignores: ['node_modules/**', '.venv/**', 'function/**', '.demo/**', '.bench/**', 'build/**', 'dist/**'],
  },
  js.configs.recommended,
  {
    files: ['apps_script/**/*.js'],
    ignores: ['apps_script/**/*Page.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'script',
      globals: { ...globals.googleappsscript },
    },
    rules: {
      // Files share one global scope: names defined in one file are used in another, and menu items,
      // triggers and the sidebar call top-level functions by name. tsc (checkJs) checks every name.
      'no-undef': 'off',
      'no-unused-vars': ['error', { vars: 'local', args: 'after-used', argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: 'error',
    },
  },
  {
    // A page's script is one function, written into its page as text and run in the browser.
    files: ['apps_script/**/*Page.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'script',
      globals: { ...globals.browser },
    },
    rules: {
      'no-unused-vars': ['error', { vars: 'local', args: 'after-used', argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: 'error',
    },
  },
  {
    files: ['tests/**/*.js', 'deploy/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      eqeqeq: 'error',
    },
  },
  {
    files: ['eslint.config.mjs'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },
];
