import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "src/**/*.test.ts",
            "test/unit/**/*.test.ts",
            "test/bench/**/*.test.ts",
            "test/support/**/*.test.ts",
          ],
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
