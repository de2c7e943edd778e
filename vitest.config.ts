import { defineConfig } from "vitest/config";

// Tests run from the compiled output (`pretest: tsc`), so the app the local host loads is the same JavaScript that
// Azure would run, and a type error fails the test run.
export default defineConfig({
  test: {
    include: ["dist/test/**/*.test.js"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
