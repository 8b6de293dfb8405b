import { connect, type Socket } from "node:net";

/**
 * Opens a TCP connection to the URL's host and port, for tests whose subject is a socket
 * behaviour (slow or aborted bodies, parser refusals).
 * @example const s = await openSocket(gatewayUrl); s.write("GET / HTTP/1.1\r\n\r\n");
 */
export function openSocket(url: string): Promise<Socket> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once("error", reject);
  });
}

/** Fields of {@link voiceForm}; each left out is left out of the form. */
export interface VoiceFormFields {
  audio?: Uint8Array;
  /** @default "prompt.wav" */
  filename?: string;
  name?: string;
  promptText?: string;
  /** MIME type of the audio part. @default "audio/wav" */
  type?: string;
}

/**
 * A multipart body for the gateway's `POST /voices`.
 * @example await fetch(`${gw}/voices`, { method: "POST", body: voiceForm({ audio: synthWav(), name: "Ann" }) });
 */
export function voiceForm(fields: VoiceFormFields): FormData {
  const form = new FormData();
  if (fields.name !== undefined) form.set("name", fields.name);
  if (fields.promptText !== undefined) form.set("promptText", fields.promptText);
  if (fields.audio) form.set("audio", new Blob([fields.audio.slice()], { type: fields.type ?? "audio/wav" }), fields.filename ?? "prompt.wav");
  return form;
}
