// Writes the repository's routes.schema.json (the JSON Schema of ROUTES_FILE) from the zod schema in src/platform/routes-file/schema.ts.
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { routesJsonSchemaText } from "../src/platform/routes-file/schema.ts";

const target = resolve(dirname(fileURLToPath(import.meta.url)), "../../../routes.schema.json");
writeFileSync(target, routesJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
