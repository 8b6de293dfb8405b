// Writes the repository's openapi.yaml from the gateway's zod schemas (see src/doors/openapi/document.ts).
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openApiYaml } from "../src/doors/openapi/yaml.ts";

const target = resolve(dirname(fileURLToPath(import.meta.url)), "../../../openapi.yaml");
writeFileSync(target, openApiYaml());
process.stdout.write(`wrote ${target}\n`);
