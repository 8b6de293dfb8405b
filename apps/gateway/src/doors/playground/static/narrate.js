/* global document, fetch, sessionStorage, Headers, TextDecoder, URL, setTimeout, AbortController */
// The playground's "Narrate a chapter" tab: POST /jobs, follow GET /jobs/{id}/events (read with
// fetch, so the API key goes in a header, which EventSource cannot send), then play the audio
// with its WebVTT captions. GET /jobs lists the key's jobs; DELETE /jobs/{id} cancels one.
const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "cosyvoice3-playground.apiKey";

function headers(extra = {}) {
  const h = new Headers(extra);
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) h.set("Authorization", `Bearer ${key}`);
  return h;
}

async function problemText(res) {
  try {
    const p = await res.json();
    const fields = (p.errors ?? []).map((e) => `${e.pointer}: ${e.detail}`).join("; ");
    return `${p.title}${p.detail && p.detail !== p.title ? `: ${p.detail}` : ""}${fields ? ` (${fields})` : ""}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function setStatus(text, isError = false) {
  const el = $("narrate-status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

/** Switches between the Speak and Narrate tabs (arrow keys move between them). */
function tabs() {
  const all = [$("tab-speak"), $("tab-narrate")];
  const select = (tab) => {
    for (const t of all) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    tab.focus();
    if (tab.id === "tab-narrate") void listJobs();
  };
  for (const t of all) {
    t.addEventListener("click", () => select(t));
    t.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") select(all[(all.indexOf(t) + 1) % all.length]);
    });
  }
}

let following;

/** Reads the job's SSE stream; calls `each` with every job state; resolves with the last. */
async function follow(id, each) {
  for (;;) {
    try {
      const res = await fetch(`/jobs/${id}/events`, { headers: headers({ Accept: "text/event-stream" }), signal: following.signal });
      if (!res.ok) throw new Error(await problemText(res));
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        buffer += decoder.decode(r.value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
          if (!data) continue;
          const job = JSON.parse(data);
          each(job);
          if (/^event: end/m.test(block)) return job;
        }
      }
    } catch (err) {
      if (following.signal.aborted) throw err;
      // The stream dropped: follow again in a moment (the job goes on meanwhile).
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function show(job) {
  const bar = $("narrate-progress");
  bar.hidden = false;
  bar.max = job.segments.total;
  bar.value = job.segments.done;
  setStatus(`${job.status}: ${job.segments.done} of ${job.segments.total} segments`);
}

async function finished(job) {
  $("narrate-cancel").disabled = true;
  if (job.status !== "succeeded") {
    setStatus(`The job ${job.status}${job.error ? `: ${job.error.title}${job.error.detail ? ` (${job.error.detail})` : ""}` : ""}`, job.status === "failed");
    return;
  }
  const player = $("narrate-player");
  // Captions come with the key (a <track> cannot send one): fetched, then given as a blob: URL.
  const vtt = await fetch(job.captionsUrl, { headers: headers() });
  if (vtt.ok) $("narrate-track").src = URL.createObjectURL(await vtt.blob());
  player.src = job.audioUrl;
  player.hidden = false;
  const link = $("narrate-download");
  link.href = job.audioUrl;
  link.download = `${job.id}.${job.format}`;
  link.hidden = false;
  const captions = $("narrate-captions");
  captions.href = $("narrate-track").src;
  captions.download = `${job.id}.vtt`;
  captions.hidden = !vtt.ok;
  // Done once the player has the audio and its captions, not before.
  setStatus(`Done: ${(job.durationMs / 1000).toFixed(1)} s of audio in ${job.segments.total} segments.`);
  void listJobs();
}

async function listJobs() {
  const res = await fetch("/jobs?limit=10", { headers: headers() });
  const list = $("narrate-jobs");
  if (!res.ok) return;
  const { jobs } = await res.json();
  list.replaceChildren(
    ...jobs.map((j) => {
      const li = document.createElement("li");
      li.textContent = `${new Date(j.createdAt).toLocaleString()}: ${j.characters} characters, ${j.status} (${j.segments.done}/${j.segments.total}) `;
      if (j.audioUrl) {
        const a = document.createElement("a");
        a.href = j.audioUrl;
        a.textContent = "audio";
        li.append(a);
      }
      return li;
    }),
  );
}

async function start(event) {
  event.preventDefault();
  const voice = $("voice-select").value;
  if (!voice) return setStatus("Choose or save a voice first.", true);
  const body = { text: $("narrate-text").value, voice, format: $("narrate-format").value };
  setStatus("Submitting...");
  const res = await fetch("/jobs", { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body) });
  if (res.status !== 202) return setStatus(`Refused: ${await problemText(res)}`, true);
  const accepted = await res.json();
  following?.abort();
  following = new AbortController();
  $("narrate-cancel").disabled = false;
  $("narrate-cancel").onclick = async () => {
    const del = await fetch(`/jobs/${accepted.id}`, { method: "DELETE", headers: headers() });
    if (!del.ok) setStatus(`Could not cancel: ${await problemText(del)}`, true);
  };
  try {
    await finished(await follow(accepted.id, show));
  } catch (err) {
    if (!following.signal.aborted) setStatus(String(err), true);
  }
}

$("narrate-file").addEventListener("change", async (e) => {
  const file = e.target.files?.[0];
  if (file) $("narrate-text").value = await file.text();
});
$("narrate-form").addEventListener("submit", (e) => void start(e));
tabs();
