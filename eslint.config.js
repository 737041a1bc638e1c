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
    files: ["**/*.js", "bin/**"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
