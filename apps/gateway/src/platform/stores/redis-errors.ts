import { GatewayError, StoreUnavailableError } from "../../service/errors.ts";

/**
 * Runs one store operation against Redis; any failure of Redis itself (connection lost, command
 * refused) becomes a {@link StoreUnavailableError} (503 at the HTTP edge), never an unknown
 * error that looks like a bug.
 * @example return guard("voice list", () => redis.zrange(key, 0, -1));
 */
export async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new StoreUnavailableError(what, { cause: err });
  }
}
