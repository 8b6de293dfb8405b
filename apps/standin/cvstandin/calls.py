"""Calls on the API servers (`--serve fastapi|grpc|openai`): the record and the fault knobs.

Each inference is one `Call`: it is recorded when it starts (`call`), for every piece of PCM the
server sends (`chunk`) and once when it ends (`end`), with the sha256 of all PCM bytes sent, so a
test can compare what it received bit for bit. The model and its sleeps run synchronously (in
worker threads), as upstream's model does; cancelling a call (the client closed the connection or
cancelled the RPC) wakes the model's sleep and forbids any further chunk.

Outcomes: "complete", "client_closed", "failed" (the model raised, or --fail-rate), "crashed"
(--crash-after-chunks fired on this call).
"""
from __future__ import annotations

import hashlib
import itertools
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import speech
from .record import Recorder


class CallCancelled(BaseException):
    """Raised inside the model's worker thread once the call was cancelled: no more audio."""


@dataclass(frozen=True)
class Knobs:
    """The fault knobs given on the command line."""

    fail_rate: float = 0.0
    crash_after_chunks: int | None = None
    first_chunk_delay_ms: int = 0
    chunk_delay_ms: int = 0


class Call:
    """One inference: what it was asked, what it sent, how it ended."""

    def __init__(self, calls: Calls, call_id: str, fields: dict[str, Any]) -> None:
        self.calls = calls
        self.id = call_id
        self.fields = fields
        self.cancelled = threading.Event()
        self.chunks = 0
        self.pcm_bytes = 0
        self._sha = hashlib.sha256()
        self._ended = False
        self._lock = threading.Lock()
        self.applied: dict[str, Any] = {
            "first_chunk_delay_ms": calls.knobs.first_chunk_delay_ms,
            "chunk_delay_ms": calls.knobs.chunk_delay_ms,
            "fail_at_chunk": None,
        }

    # --- what the model uses -------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        """Sleeps like GPU work does, but wakes up (and stops the call) as soon as it is cancelled."""
        if self.cancelled.wait(seconds) or self.cancelled.is_set():
            raise CallCancelled()

    def note_applied(self, applied: dict[str, Any]) -> None:
        """What the model applied (the instruction as espeak settings, instruct.py): into `end`'s `applied`."""
        self.applied.update(applied)

    # --- what the servers use ------------------------------------------------------------

    def pieces(self, model_output: Iterator[dict[str, np.ndarray]], sentences: int) -> Iterator[bytes]:
        """The model's chunks as int16 PCM bytes (upstream's conversion), with --fail-rate applied.

        Each yielded piece is recorded (`chunk`) and counted into the call's sha256 before it is
        handed to the server to send.
        """
        fail_at = self.calls.draw_failure(sentences)
        self.applied["fail_at_chunk"] = fail_at if fail_at >= 0 else None
        index = 0
        for out in model_output:
            if 0 <= fail_at <= index:
                raise RuntimeError("injected failure (--fail-rate)")
            yield self.emit(speech.pcm16(out["tts_speech"].reshape(-1)))
            index += 1
        if fail_at >= index:
            raise RuntimeError("injected failure (--fail-rate)")

    def emit(self, pcm: bytes) -> bytes:
        """Records one piece about to be sent; applies --crash-after-chunks."""
        self.calls.hold_if_crashing()
        with self._lock:
            if self.cancelled.is_set():
                raise CallCancelled()
            index = self.chunks
            self.chunks += 1
            self.pcm_bytes += len(pcm)
            self._sha.update(pcm)
            self.calls.recorder.write(
                "chunk", job=self.id, index=index, bytes=len(pcm), samples=len(pcm) // 2,
                sample_rate=self.calls.sample_rate,
                duration_ms=round(len(pcm) / 2 * 1000 / self.calls.sample_rate),
                sha256=hashlib.sha256(pcm).hexdigest()[:16])
        self.calls.count_chunk(self)
        return pcm

    def cancel(self) -> None:
        """The client went away: stop the model and record client_closed (once)."""
        self.cancelled.set()
        self.end("client_closed")

    def end(self, outcome: str, **extra: Any) -> None:
        """Writes the `end` event, once (later calls are ignored)."""
        with self._lock:
            if outcome == "client_closed":
                self.cancelled.set()
            if self._ended:
                return
            self._ended = True
            self.calls.recorder.write(
                "end", job=self.id, serve=self.calls.serve, **self.fields, chunks=self.chunks,
                pcm_bytes=self.pcm_bytes, pcm_sha256=self._sha.hexdigest(), outcome=outcome,
                applied=self.applied, **extra)

    @property
    def ended(self) -> bool:
        return self._ended


class Calls:
    """Starts recorded calls and applies the process-wide knobs (--fail-rate, --crash-after-chunks)."""

    def __init__(self, recorder: Recorder, knobs: Knobs, serve: str, model: str, sample_rate: int) -> None:
        self.recorder = recorder
        self.knobs = knobs
        self.serve = serve
        self.model = model
        self.sample_rate = sample_rate
        self._ids = itertools.count(1)
        self._chunks_in_process = 0
        self._crashing = threading.Event()
        self._lock = threading.Lock()
        # Separate from the global RNGs, which a seed may reset.
        self._rng = random.Random()

    def start(self, endpoint: str, mode: str, *, tts_text: str = "", prompt_text: str | None = None,
              instruct_text: str | None = None, spk_id: str | None = None, **extra: Any) -> Call:
        """Records the `call` event and returns the call; `extra` goes into both call and end."""
        call_id = f"job-{next(self._ids)}"
        fields = {"endpoint": endpoint, "mode": mode, "tts_text": tts_text, "prompt_text": prompt_text,
                  "instruct_text": instruct_text, "spk_id": spk_id}
        self.recorder.write("call", job=call_id, serve=self.serve, model=self.model, **fields, **extra)
        return Call(self, call_id, fields)

    def draw_failure(self, sentences: int) -> int:
        """-1, or the chunk index before which this call fails (--fail-rate)."""
        if self.knobs.fail_rate > 0 and self._rng.random() < self.knobs.fail_rate:
            return self._rng.randrange(0, max(1, sentences))
        return -1

    def hold_if_crashing(self) -> None:
        if self._crashing.is_set():
            # the process is about to exit: no call may produce anything more
            time.sleep(10)

    def count_chunk(self, call: Call) -> None:
        with self._lock:
            self._chunks_in_process += 1
            crash = (self.knobs.crash_after_chunks is not None
                     and self._chunks_in_process == self.knobs.crash_after_chunks)
        if crash:
            self._crashing.set()
            self.recorder.write("crash", job=call.id, chunks_in_process=self._chunks_in_process)
            call.end("crashed")

            def die() -> None:
                # a short grace so the N-th chunk reaches the client before the process dies
                time.sleep(0.3)
                os._exit(70)

            threading.Thread(target=die, daemon=True).start()


def sentence_count(text: str) -> int:
    """How many chunks the model will make of `text` (for --fail-rate's draw)."""
    return len(speech.split_sentences(speech.clean_text(text or "")))
