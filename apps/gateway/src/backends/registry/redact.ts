/**
 * A box's address may carry credentials (`http://user:pass@gpu-1:7860`): they are for the box,
 * never for a log line, `/readyz` or `/metrics`. Every place that shows a box URL shows it
 * through here.
 */

/** `scheme://user:pass@` and `scheme://user@` (any scheme, also inside a longer text). */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi;

/**
 * The URL with its user info replaced.
 * @example redactUrl("http://bob:s3cret@gpu-1:7860/") // "http://[redacted]@gpu-1:7860/"
 */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, "$1[redacted]@");
}

/**
 * Any text (an error message) with the user info of every URL in it replaced.
 * @example redactText("connect ECONNREFUSED http://a:b@h:1/x") // "connect ECONNREFUSED http://[redacted]@h:1/x"
 */
export const redactText = redactUrl;

/**
 * An error as a log field, with credentials taken out of its message and stack.
 * @example logger.warn({ err: redactError(err) }, "backend down")
 */
export function redactError(err: unknown): unknown {
  if (!(err instanceof Error)) return typeof err === "string" ? redactText(err) : err;
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    message: redactText(err.message),
    ...(code !== undefined ? { code } : {}),
    ...(err.stack !== undefined ? { stack: redactText(err.stack) } : {}),
  };
}
