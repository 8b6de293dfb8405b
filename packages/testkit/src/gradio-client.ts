/**
 * Closing an `@gradio/client` Client the way a finished page does. The server ends the session's
 * event stream (`close_stream`) a few milliseconds after its last job completes; `close()` before
 * that aborts the stream's fetch mid-flight, and @gradio/client prints that AbortError with its
 * stack on the console (`console.error` in its readable_stream). Waiting for the server's own end
 * first leaves nothing to abort, so nothing is printed.
 */

/** What this needs of a Client (its `stream_status` is internal to @gradio/client 2.x). */
interface ClosableClient {
  close(): void;
}

/**
 * Waits (at most `timeoutMs`) until the server has ended the client's event stream, then closes
 * the client.
 * @example const client = await Client.connect(url); ...; await closeGradioClient(client);
 */
export async function closeGradioClient(client: ClosableClient | undefined, timeoutMs = 5_000): Promise<void> {
  if (!client) return;
  const status = (client as { stream_status?: { open?: boolean } }).stream_status;
  const until = Date.now() + timeoutMs;
  while (status?.open === true && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  client.close();
}
