"""Job bookkeeping around the UI's generator: the JSON-lines record and the fault knobs.

Every generate_audio call runs through `Jobs.run`, which records the call (inputs with their
Python types, the prompt audio's sample rate and duration), each chunk, and how the job ended:
"done", "error" (with message) or "cancelled" (the generator was closed before it finished,
which is what Gradio's /cancel leads to).
"""
from __future__ import annotations

import asyncio
import contextvars
import hashlib
import itertools
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from . import speech
from .record import Recorder  # noqa: F401 - re-exported: app.py and older imports use jobs.Recorder


@dataclass(frozen=True)
class Faults:
    """The fault knobs given on the command line."""

    fail_rate: float = 0.0
    force_warning: bool = False
    crash_after_chunks: int | None = None


def describe(value: Any) -> dict[str, Any]:
    """A JSON-safe copy of an input plus its Python type name (int vs float, bool vs str)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value, "type": type(value).__name__}
    return {"value": repr(value), "type": type(value).__name__}


def audio_summary(path: Any) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        info = speech.read_audio(path)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is recorded, the UI decides later
        return {"path": str(path), "file_name": os.path.basename(str(path)), "sample_rate": None,
                "duration_ms": None, "channels": None, "error": str(exc)}
    return {"path": str(path), "file_name": os.path.basename(str(path)), "sample_rate": info.sample_rate,
            "duration_ms": info.duration_ms, "channels": info.channels}


class JobCancelled(BaseException):
    """Raised inside the model's worker thread once the job was cancelled, so no more audio is made."""


class Job:
    """One generate_audio call: what the UI code uses to warn / inform, recorded as it goes."""

    def __init__(self, jobs: Jobs, job_id: str) -> None:
        self.jobs = jobs
        self.id = job_id
        self.cancelled = threading.Event()
        self.chunks = 0
        self.applied: dict[str, Any] | None = None
        self._ended = False
        self._lock = threading.Lock()

    def warning(self, message: str) -> None:
        self.jobs.recorder.write("warning", job=self.id, message=message)
        gr.Warning(message)

    def info(self, message: str) -> None:
        self.jobs.recorder.write("info", job=self.id, message=message)
        gr.Info(message)

    def note_applied(self, applied: dict[str, Any]) -> None:
        """What the model applied (instruct controls as espeak settings), recorded once it speaks."""
        self.applied = applied
        self.jobs.recorder.write("applied", job=self.id, applied=applied)

    def sleep(self, seconds: float) -> None:
        """Sleeps like GPU work does, but wakes up (and stops the job) as soon as it is cancelled."""
        if self.cancelled.wait(seconds) or self.cancelled.is_set():
            raise JobCancelled()

    def record_chunk(self, index: int, rate: int, data: np.ndarray) -> None:
        # Checked and written under the job's lock, so no chunk is recorded after "cancelled".
        with self._lock:
            if self.cancelled.is_set():
                raise JobCancelled()
            self.chunks = index + 1
            self.jobs.recorder.write(
                "chunk", job=self.id, index=index, samples=len(data), sample_rate=int(rate),
                duration_ms=int(round(len(data) * 1000 / rate)), silent=bool(not np.any(data)),
                # equal digests = identical audio: how tests check determinism and prompt influence
                digest=hashlib.sha1(np.asarray(data, dtype=np.float32).tobytes()).hexdigest()[:16])

    def end(self, event: str, **fields: Any) -> None:
        """Records how the job ended, once; "cancelled" also stops the model's worker thread."""
        with self._lock:
            if event == "cancelled":
                self.cancelled.set()
            if self._ended:
                return
            self._ended = True
            if self.applied is not None:
                fields = {**fields, "applied": self.applied}
            self.jobs.recorder.write(event, job=self.id, chunks=self.chunks, **fields)


_DONE = object()


def _step(gen: Iterator[Any]) -> Any:
    try:
        return next(gen)
    except StopIteration:
        return _DONE


class Jobs:
    """Runs UI generators as recorded jobs and applies the fault knobs."""

    def __init__(self, recorder: Recorder, faults: Faults, sample_rate: int, variant: str, model: str) -> None:
        self.recorder = recorder
        self.faults = faults
        self.sample_rate = sample_rate
        self.variant = variant
        self.model = model
        self._ids = itertools.count(1)
        self._chunks_in_process = 0
        self._crashing = threading.Event()
        self._lock = threading.Lock()
        # Separate from the global RNGs, which the UI reseeds per job (set_all_random_seed).
        self._rng = random.Random()

    def record_call(self, fn: str, inputs: dict[str, Any], request: Any) -> str:
        job_id = f"job-{next(self._ids)}"
        self.recorder.write("call", job=job_id, fn=fn, session_hash=getattr(request, "session_hash", None),
                            inputs={k: describe(v) for k, v in inputs.items()})
        return job_id

    async def run(self, inputs: dict[str, Any], request: Any,
                  ui: Callable[[Job], Iterator[tuple[int, np.ndarray]]]) -> AsyncIterator[tuple[int, np.ndarray]]:
        """Records the call, then yields the UI generator's chunks, recording each and the end.

        The UI code and the model stay synchronous, as upstream, and run step by step in worker
        threads. Cancellation is caught two ways: Gradio's /cancel cancels the asyncio task that
        runs this job (seen through a done-callback, whichever await the job is parked at), or
        the task's CancelledError arrives at our await. Either sets `job.cancelled`, which wakes
        the model's sleep and forbids further chunks.
        """
        job_id = f"job-{next(self._ids)}"
        self.recorder.write(
            "call", job=job_id, fn="generate_audio", session_hash=getattr(request, "session_hash", None),
            variant=self.variant, model=self.model,
            inputs={k: describe(v) for k, v in inputs.items()},
            prompt_wav_upload=audio_summary(inputs.get("prompt_wav_upload")),
            prompt_wav_record=audio_summary(inputs.get("prompt_wav_record")),
        )
        job = Job(self, job_id)
        task = asyncio.current_task()
        if task is not None:
            task.add_done_callback(lambda _t: job.end("cancelled"))
        gen = self._steps(job, inputs, ui)
        loop = asyncio.get_running_loop()
        try:
            while True:
                # copy_context: gr.Warning / gr.Info find the event through context variables
                item = await loop.run_in_executor(None, contextvars.copy_context().run, _step, gen)
                if item is _DONE:
                    break
                yield item
        except (asyncio.CancelledError, GeneratorExit, JobCancelled):
            job.end("cancelled")
            raise
        except BaseException as exc:
            job.end("error", error=type(exc).__name__, message=str(exc))
            raise
        job.end("done")

    def _steps(self, job: Job, inputs: dict[str, Any], ui: Callable[[Job], Iterator[tuple[int, np.ndarray]]]
               ) -> Iterator[tuple[int, np.ndarray]]:
        fail_at = -1
        if self.faults.fail_rate > 0 and self._rng.random() < self.faults.fail_rate:
            n = max(1, len(speech.split_sentences(speech.clean_text(str(inputs.get("tts_text") or "")))))
            fail_at = self._rng.randrange(0, n)
        index = 0
        if self.faults.force_warning:
            job.warning(self.forced_warning_message())
            yield self._emit(job, index, (self.sample_rate, np.zeros(self.sample_rate)))
            index += 1
            if self.variant == "cv3-en":
                return  # the English UI returns after a validation warning
        for chunk in ui(job):
            if 0 <= fail_at <= index:
                raise RuntimeError("injected failure (--fail-rate)")
            yield self._emit(job, index, chunk)
            index += 1
        if fail_at >= index:
            raise RuntimeError("injected failure (--fail-rate)")

    def _emit(self, job: Job, index: int, chunk: tuple[int, np.ndarray]) -> tuple[int, np.ndarray]:
        rate, data = chunk
        if self._crashing.is_set():
            # the process is about to exit: no job may produce anything more
            self._crashing.wait(10)
            time.sleep(10)
        job.record_chunk(index, rate, data)
        with self._lock:
            self._chunks_in_process += 1
            crash = (self.faults.crash_after_chunks is not None
                     and self._chunks_in_process == self.faults.crash_after_chunks)
        if crash:
            self._crash_soon(job)
        return chunk

    def _crash_soon(self, job: Job) -> None:
        self._crashing.set()
        self.recorder.write("crash", job=job.id, chunks_in_process=self._chunks_in_process)

        def die() -> None:
            # a short grace so the N-th chunk's message can reach the client before the process dies
            time.sleep(0.3)
            os._exit(70)

        threading.Thread(target=die, daemon=True).start()

    def forced_warning_message(self) -> str:
        if self.variant == "cv3-en":
            return "Prompt audio is empty, did you forget to upload it?"
        return "prompt音频为空，您是否忘记输入prompt音频？"
