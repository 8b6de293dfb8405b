// Regenerates src/generated/openapi.ts from openapi.yaml (see types-from-openapi.ts).
import { writeFileSync } from "node:fs";
import { GENERATED_FILE, typesFromOpenApi } from "./types-from-openapi.ts";

writeFileSync(GENERATED_FILE, await typesFromOpenApi());
process.stdout.write(`wrote ${GENERATED_FILE}\n`);
