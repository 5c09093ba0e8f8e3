// Jest runs the TypeScript sources directly through SWC as ES modules
// (NODE_OPTIONS=--experimental-vm-modules is set by `npm run jest`).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/engine/src', '<rootDir>/operator/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testTimeout: 30000,
};
