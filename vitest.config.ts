import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          // No cluster needed: the unit tests beside the code in src/ and every test under test/
          // but the e2e ones (test/deploy, test/monitoring, test/bench, test/support).
          name: "unit",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "test/e2e/**"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One control plane on 2 cores: files share it, so run them one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
