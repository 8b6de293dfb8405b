import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/dist/**", "**/node_modules/**", ".tools/**", "apps/standin/.venv*/**", "**/.venv/**", "bench/results/**",
      // openapi-typescript's output (242 KB, a tenth of what eslint read; about 1 s of its CPU):
      // nothing in it is written by hand, `npm run typecheck` still checks it, and
      // packages/client/test/generated-types-match-openapi-yaml.test.ts fails when it drifts.
      "packages/client/src/generated/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    files: ["**/*.test.ts", "**/test/**", "scripts/**", "**/bench/**", "bench/**"],
    rules: { "no-console": "off" },
  },
);
