export { run, VERSION, DEFAULT_GATEWAY, type CliIo } from "./program.ts";
export { EXIT, CliError, classify, type ExitCode } from "./exit-codes.ts";
export { AdtsCounter } from "./adts.ts";
