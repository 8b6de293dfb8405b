import { createRequire } from "node:module";
import type { parse as yamlParse, ParseOptions, DocumentOptions, SchemaOptions, ToJSOptions } from "yaml";

type Options = ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions;
let parse: typeof yamlParse | undefined;

/**
 * yaml's `parse`, loaded on first use (a CommonJS build, so synchronously): most gateways read
 * no YAML at all, and the library is a few MB of memory once loaded.
 * @example const doc = parseYaml("a: 1"); // { a: 1 }
 */
export function parseYaml(text: string, options?: Options): unknown {
  parse ??= (createRequire(import.meta.url)("yaml") as { parse: typeof yamlParse }).parse;
  return options === undefined ? parse(text) : parse(text, options);
}
