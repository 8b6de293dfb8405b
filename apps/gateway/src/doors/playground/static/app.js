/* global document, fetch, sessionStorage, Headers, MediaSource, MediaRecorder, navigator, AudioContext, Blob, FormData, URL, File, setInterval, clearInterval, AbortController */
// The playground: plain ES modules, no build step. Every call is the gateway's public REST API
// (the same one a frontend uses): GET /voices, POST /voices, DELETE /voices/{id}, GET /capabilities, GET /readyz,
// POST /synthesize with streaming (AAC played through MediaSource as it arrives).
import { encodeWav } from "./wav.js";

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "cosyvoice3-playground.apiKey";
let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? "";
/** @type {Map<string, {id: string, name: string, kind: string, promptText?: string}>} */
const voices = new Map();
/** @type {File | undefined} the last recording, as WAV */
let recorded;

function setStatus(el, text, isError = false) {
  el.textContent = text;
  el.classList.toggle("error", isError);
}

/** One readable line from a problem+json answer. */
async function problemText(res) {
  try {
    const p = await res.json();
    const fields = (p.errors ?? []).map((e) => `${e.pointer}: ${e.detail}`).join("; ");
    return `${p.title}${p.detail && p.detail !== p.title ? `: ${p.detail}` : ""}${fields ? ` (${fields})` : ""}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/** Asks for the API key in the dialog; resolves once a key the gateway accepts is entered. */
function askForKey(message = "") {
  const dialog = $("key-dialog");
  const error = $("key-error");
  error.hidden = message === "";
  error.textContent = message;
  return new Promise((resolve) => {
    $("key-form").onsubmit = async (event) => {
      event.preventDefault();
      const key = $("key-input").value.trim();
      const check = await fetch("/voices", { headers: { Authorization: `Bearer ${key}` } });
      if (check.status === 401) {
        error.hidden = false;
        error.textContent = "The gateway did not accept this key.";
        return;
      }
      apiKey = key;
      sessionStorage.setItem(KEY_STORAGE, key);
      dialog.close();
      resolve();
    };
    if (!dialog.open) dialog.showModal();
    $("key-input").focus();
  });
}

/** fetch with the key; a 401 asks for the key (once per call) and sends the call again. */
async function api(path, init = {}, retried = false) {
  const headers = new Headers(init.headers);
  if (apiKey) headers.set("Authorization", `Bearer ${apiKey}`);
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401 && !retried) {
    await askForKey(apiKey ? "The stored key was refused; enter another." : "");
    return api(path, init, true);
  }
  return res;
}

async function loadVoices(select) {
  const res = await api("/voices");
  // Only with a key does the gateway keep each key's voices apart (API_KEYS); without one,
  // "saved with this key" would name a key nobody gave.
  $("voice-help").textContent = `Built-in speakers of the model, then ${apiKey ? "the voices saved with this key" : "the saved voices"}.`;
  const list = $("voice-select");
  if (!res.ok) {
    setStatus($("voice-status"), `Could not list the voices: ${await problemText(res)}`, true);
    return;
  }
  const body = await res.json();
  voices.clear();
  list.replaceChildren();
  for (const v of body.voices) {
    voices.set(v.id, v);
    const option = document.createElement("option");
    option.value = v.id;
    option.textContent = v.kind === "builtin" ? `${v.name} (built-in)` : `${v.name}${v.promptText ? "" : " (no transcript: cross-lingual and instruct only)"}`;
    list.append(option);
  }
  if (body.voices.length === 0) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = "no voices yet: record or upload one below";
    list.append(option);
  }
  if (select && voices.has(select)) list.value = select;
  $("voice-delete").disabled = voices.get(list.value)?.kind !== "cloned";
}

/** What the backend can do (GET /capabilities): the modes to offer and instruct's controls. */
async function loadCapabilities() {
  const caps = await fetch("/capabilities").then((r) => (r.ok ? r.json() : undefined)).catch(() => undefined);
  if (!caps) {
    setStatus($("speak-status"), "The backend is not ready (GET /capabilities); generating may fail.", true);
    return;
  }
  const labels = { pretrained: "pretrained (built-in speaker)", clone: "clone (3-second cloning)", crossLingual: "cross-lingual", instruct: "instruct (natural-language control)" };
  for (const m of caps.modes ?? []) {
    const option = document.createElement("option");
    option.value = m;
    option.textContent = labels[m] ?? m;
    $("mode").append(option);
  }
  const instruct = caps.instruct;
  if (!instruct) {
    $("instruct-controls").disabled = true;
    $("instruct-controls").querySelector("legend").textContent = "Instruct (this backend has no instruct mode: run the cv3-en UI with CosyVoice3 for it)";
    return;
  }
  $("instruct-text").disabled = !instruct.freeText;
  for (const name of ["dialect", "emotion", "pace", "volume", "role"]) {
    const values = instruct.controls?.[name] ?? [];
    const select = $(name);
    select.disabled = values.length === 0;
    const keep = select.options[0];
    const known = Object.fromEntries([...select.options].map((o) => [o.value, o.textContent]));
    select.replaceChildren(keep, ...values.map((v) => Object.assign(document.createElement("option"), { value: v, textContent: known[v] ?? v })));
  }
}

// --- recording -------------------------------------------------------------------------------

let recorder;
let recordTimer;

async function startRecording() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false } });
  } catch (err) {
    setStatus($("voice-status"), `No microphone: ${err.message}`, true);
    return;
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.onstop = async () => {
    clearInterval(recordTimer);
    for (const track of stream.getTracks()) track.stop();
    const blob = new Blob(chunks, { type: recorder.mimeType });
    const context = new AudioContext();
    try {
      const decoded = await context.decodeAudioData(await blob.arrayBuffer());
      recorded = new File([encodeWav(decoded)], "recording.wav", { type: "audio/wav" });
      $("record-preview").src = URL.createObjectURL(recorded);
      $("record-preview").hidden = false;
      $("voice-file").value = "";
      setStatus($("voice-status"), `Recorded ${decoded.duration.toFixed(1)} s. Save it as a voice.`);
    } catch (err) {
      setStatus($("voice-status"), `The recording could not be decoded: ${err.message}`, true);
    } finally {
      await context.close();
    }
    $("record-start").disabled = false;
    $("record-stop").disabled = true;
  };
  const started = Date.now();
  recorder.start(250);
  $("record-start").disabled = true;
  $("record-stop").disabled = false;
  recordTimer = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    $("record-time").textContent = `recording ${s.toFixed(1)} s`;
    if (s >= 29) stopRecording();
  }, 200);
}

function stopRecording() {
  if (recorder?.state === "recording") recorder.stop();
  $("record-time").textContent = "";
}

async function saveVoice(event) {
  event.preventDefault();
  const file = $("voice-file").files[0] ?? recorded;
  if (!file) {
    setStatus($("voice-status"), "Choose a file or record the prompt first.", true);
    return;
  }
  const form = new FormData();
  form.set("name", $("voice-name").value.trim());
  const promptText = $("voice-prompt-text").value.trim();
  if (promptText) form.set("promptText", promptText);
  form.set("audio", file, file.name || "prompt");
  $("voice-save").disabled = true;
  setStatus($("voice-status"), "Saving …");
  try {
    const res = await api("/voices", { method: "POST", body: form });
    if (!res.ok) return setStatus($("voice-status"), `Not saved: ${await problemText(res)}`, true);
    const voice = await res.json();
    await loadVoices(voice.id);
    setStatus($("voice-status"), `Saved "${voice.name}" (${voice.id}); it is selected above.`);
  } catch (err) {
    setStatus($("voice-status"), `Not saved: ${err.message}`, true);
  } finally {
    $("voice-save").disabled = false;
  }
}

async function deleteVoice() {
  const id = $("voice-select").value;
  if (voices.get(id)?.kind !== "cloned") return;
  const res = await api(`/voices/${encodeURIComponent(id)}`, { method: "DELETE" });
  if (!res.ok && res.status !== 404) return setStatus($("voice-status"), `Not deleted: ${await problemText(res)}`, true);
  await loadVoices();
  setStatus($("voice-status"), "Deleted.");
}

// --- speaking --------------------------------------------------------------------------------

let running;

function synthesisBody() {
  const body = { text: $("text").value, voice: $("voice-select").value, stream: true };
  if ($("mode").value) body.mode = $("mode").value;
  const controls = {};
  for (const name of ["dialect", "emotion", "pace", "volume", "role"]) if ($(name).value) controls[name] = $(name).value;
  const free = $("instruct-text").value.trim();
  if (!$("instruct-controls").disabled) {
    if (Object.keys(controls).length) body.instruct = controls;
    else if (free) body.instruct = free;
  }
  const speed = Number($("speed").value);
  if ($("speed").value !== "" && speed !== 1) body.speed = speed;
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  return body;
}

/** What is ahead of this job on the gateway (GET /readyz), when it says. */
async function queueLine() {
  const ready = await fetch("/readyz").then((r) => (r.ok ? r.json() : undefined)).catch(() => undefined);
  const backends = ready?.backends ?? [];
  if (backends.length === 0) return "";
  const running = backends.reduce((n, b) => n + (b.running ?? 0), 0);
  const waiting = backends.reduce((n, b) => n + (b.waiting ?? 0), 0);
  return ` Queue before yours: ${running} running, ${waiting} waiting.`;
}

function appendTo(buffer, bytes) {
  return new Promise((resolve, reject) => {
    buffer.addEventListener("updateend", () => resolve(), { once: true });
    buffer.addEventListener("error", () => reject(new Error("the browser refused the audio")), { once: true });
    buffer.appendBuffer(bytes);
  });
}

async function generate(event) {
  event.preventDefault();
  const status = $("speak-status");
  const player = $("player");
  const download = $("download");
  if (!$("voice-select").value) return setStatus(status, "Pick or save a voice first.", true);
  const controller = new AbortController();
  running = controller;
  $("generate").disabled = true;
  $("stop").disabled = false;
  download.hidden = true;
  const started = Date.now();
  setStatus(status, `Waiting for the backend …${await queueLine()}`);
  const tick = setInterval(() => {
    if (!status.dataset.streaming) status.textContent = status.textContent.replace(/ \(\d+ s\)$/, "") + ` (${Math.round((Date.now() - started) / 1000)} s)`;
  }, 1000);
  delete status.dataset.streaming;
  try {
    const res = await api("/synthesize", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "audio/aac, application/problem+json" },
      body: JSON.stringify(synthesisBody()),
      signal: controller.signal,
    });
    if (!res.ok) return setStatus(status, `Not generated: ${await problemText(res)}`, true);
    const audioId = res.headers.get("X-Audio-Id") ?? "clip";
    const parts = [];
    const reader = res.body.getReader();
    status.dataset.streaming = "1";
    if (typeof MediaSource !== "undefined" && MediaSource.isTypeSupported("audio/aac")) {
      // Played as it arrives: each piece goes into a MediaSource buffer, playback starts with the first.
      const source = new MediaSource();
      player.src = URL.createObjectURL(source);
      await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
      const buffer = source.addSourceBuffer("audio/aac");
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        parts.push(r.value);
        await appendTo(buffer, r.value);
        if (parts.length === 1) player.play().catch(() => undefined);
        const seconds = buffer.buffered.length ? buffer.buffered.end(buffer.buffered.length - 1) : 0;
        setStatus(status, `Playing as it streams: ${seconds.toFixed(1)} s received.`);
      }
      if (source.readyState === "open") source.endOfStream();
    } else {
      // No MediaSource for AAC here: play once the whole clip has arrived.
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
      player.src = URL.createObjectURL(new Blob(parts, { type: "audio/aac" }));
      player.play().catch(() => undefined);
    }
    download.href = URL.createObjectURL(new Blob(parts, { type: "audio/aac" }));
    download.download = `cosyvoice-${audioId}.aac`;
    download.hidden = false;
    setStatus(status, `Done in ${((Date.now() - started) / 1000).toFixed(1)} s (audio id ${audioId}).`);
  } catch (err) {
    setStatus(status, controller.signal.aborted ? "Stopped; the job was cancelled." : `Failed: ${err.message}`, !controller.signal.aborted);
  } finally {
    clearInterval(tick);
    delete status.dataset.streaming;
    running = undefined;
    $("generate").disabled = false;
    $("stop").disabled = true;
  }
}

$("voice-form").addEventListener("submit", saveVoice);
$("record-start").addEventListener("click", startRecording);
$("record-stop").addEventListener("click", stopRecording);
$("voice-refresh").addEventListener("click", () => loadVoices($("voice-select").value));
$("voice-delete").addEventListener("click", deleteVoice);
$("voice-select").addEventListener("change", () => ($("voice-delete").disabled = voices.get($("voice-select").value)?.kind !== "cloned"));
$("voice-file").addEventListener("change", () => {
  recorded = undefined;
  $("record-preview").hidden = true;
});
$("speak-form").addEventListener("submit", generate);
$("stop").addEventListener("click", () => running?.abort());

await loadCapabilities();
await loadVoices();
document.body.dataset.ready = "1";
