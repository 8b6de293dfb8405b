/**
 * The environment variables the gateway reads: each field of its config schema names the
 * variable that sets it in its metadata (`env`), so a compose file's typo is caught by name.
 */
export async function gatewayVariables(): Promise<Set<string>> {
  const { GatewayConfigSchema } = await import("../../apps/gateway/src/platform/config.ts");
  const variables = (shape: Record<string, unknown>): string[] =>
    Object.values(shape).flatMap((field) => {
      const f = field as { meta(): { env?: string } | undefined; shape?: Record<string, unknown> };
      const env = f.meta()?.env;
      return env !== undefined ? [env] : f.shape ? variables(f.shape) : [];
    });
  return new Set(variables(GatewayConfigSchema.shape));
}
