import { defineConfig } from 'vitest/config';

// Tests live under test/ only: scratch files elsewhere (e.g. .tmp/) never run by accident.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
  },
});
