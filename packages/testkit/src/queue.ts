/**
 * Raw Gradio 5 queue protocol (sse_v3) helpers, for tests that must control exactly what goes
 * over the wire: joining the queue, reading a session's SSE stream, cancelling, uploading.
 */

/** One parsed message of `/gradio_api/queue/data`. */
export type QueueMessage = Record<string, unknown> & { msg: string; event_id?: string };

/** Result of {@link joinQueue}: either an event id or the refusal. */
export type JoinResult = { ok: true; eventId: string } | { ok: false; status: number; body: unknown };

/**
 * `POST /gradio_api/queue/join`. A full queue answers 503 with `{detail: "Queue is full..."}`.
 *
 * @example
 * const r = await joinQueue(url, { fn_index: 1, data, session_hash: "s1" });
 */
export async function joinQueue(
  url: string,
  body: { fn_index: number; data: unknown[]; session_hash: string; trigger_id?: number | null },
): Promise<JoinResult> {
  const res = await fetch(`${url}/gradio_api/queue/join`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event_data: null, trigger_id: null, ...body }),
  });
  const parsed: unknown = await res.json().catch(() => null);
  if (!res.ok) return { ok: false, status: res.status, body: parsed };
  return { ok: true, eventId: String((parsed as { event_id: string }).event_id) };
}

/** An open `/gradio_api/queue/data` stream of one session. */
export interface QueueStream {
  /** Every message received so far, in order. */
  messages: QueueMessage[];
  /** Resolves with the first message (already received or future) that matches. */
  waitFor(pred: (m: QueueMessage) => boolean, timeoutMs?: number): Promise<QueueMessage>;
  close(): void;
}

/**
 * Opens the session's SSE stream and collects its messages in the background. Join first: gradio
 * answers a stream opened for a session that has no pending event with `unexpected_error`.
 *
 * @example
 * const s = await openQueueStream(url, "s1");
 * await s.waitFor((m) => m.msg === "process_completed");
 */
export async function openQueueStream(url: string, sessionHash: string): Promise<QueueStream> {
  const ac = new AbortController();
  const res = await fetch(`${url}/gradio_api/queue/data?session_hash=${encodeURIComponent(sessionHash)}`, {
    headers: { accept: "text/event-stream" },
    signal: ac.signal,
  });
  if (!res.ok || !res.body) throw new Error(`queue/data answered ${res.status}`);
  const messages: QueueMessage[] = [];
  const waiters = new Set<{ pred: (m: QueueMessage) => boolean; resolve: (m: QueueMessage) => void }>();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buf = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let idx: number;
        while ((idx = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          for (const line of block.split("\n")) {
            if (!line.startsWith("data:")) continue;
            const msg = JSON.parse(line.slice(5).trim()) as QueueMessage;
            messages.push(msg);
            for (const w of waiters) {
              if (!w.pred(msg)) continue;
              waiters.delete(w);
              w.resolve(msg);
            }
          }
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    messages,
    waitFor(pred, timeoutMs = 30_000) {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (m: QueueMessage) => (clearTimeout(t), resolve(m)) };
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching queue message within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.msg))}`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    close: () => ac.abort(),
  };
}

/**
 * `POST /gradio_api/cancel`: cancels the session's running jobs of that endpoint.
 *
 * @example
 * await cancelJob(url, { session_hash: "s1", fn_index: 1, event_id });
 */
export async function cancelJob(url: string, body: { session_hash: string; fn_index: number; event_id: string }): Promise<number> {
  const res = await fetch(`${url}/gradio_api/cancel`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * `POST /gradio_api/upload` of one file; returns the FileData to pass as an input.
 *
 * @example
 * const fd = await uploadFile(url, synthWav(), "voice.wav", "audio/wav");
 */
export async function uploadFile(
  url: string,
  content: Buffer,
  name: string,
  mime: string,
): Promise<{ path: string; orig_name: string; meta: { _type: "gradio.FileData" } }> {
  const form = new FormData();
  form.append("files", new Blob([new Uint8Array(content)], { type: mime }), name);
  const res = await fetch(`${url}/gradio_api/upload`, { method: "POST", body: form });
  if (!res.ok) throw new Error(`upload answered ${res.status}`);
  const paths = (await res.json()) as string[];
  const path = paths[0];
  if (path === undefined) throw new Error("upload returned no path");
  return { path, orig_name: name, meta: { _type: "gradio.FileData" } };
}
