/**
 * The CLI's tests talk to the same stack as the typed client's (the CLI drives a gateway through
 * that client): one helper serves both packages.
 */
export { startStack, type Stack } from "../../../client/test/helpers/stack.ts";
