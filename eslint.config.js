// @ts-check
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "test/bench/results/**"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      complexity: ["error", 12],
      "max-params": ["error", 4],
      eqeqeq: ["error", "smart"],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Use the injected Rng (seedrandom)." },
      ],
    },
  },
  {
    // Time and randomness only through the injected Clock and Rng, the environment only as the
    // Env the edge passes in (STYLE §1): the edge modules are the only ones that touch the real
    // ones. Tests drive a FakeClock and seeded generators; e2e tests and scripts are edges too.
    files: ["src/**/*.ts"],
    ignores: ["src/**/*.test.ts", "src/main.ts", "src/clock.ts", "src/commands/common.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Use the injected Rng (seedrandom)." },
        { object: "Date", property: "now", message: "Read the injected Clock." },
        { object: "performance", property: "now", message: "Read the injected Clock." },
        { object: "AbortSignal", property: "timeout", message: "Use withDeadline(clock, ...)." },
        { object: "process", property: "env", message: "Take the Env the command is given." },
      ],
      "no-restricted-globals": [
        "error",
        { name: "setTimeout", message: "Sleep on the injected Clock." },
        { name: "setInterval", message: "Loop on the injected Clock's sleep." },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: "Read the injected Clock: new Date(clock.now()).",
        },
      ],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "node:timers", message: "Sleep on the injected Clock." },
            { name: "node:timers/promises", message: "Sleep on the injected Clock." },
            {
              name: "node:crypto",
              importNames: ["randomBytes", "randomInt", "randomUUID"],
              message: "Draw from the injected Rng.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "bin/**"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
