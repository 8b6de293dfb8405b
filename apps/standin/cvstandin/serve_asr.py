"""`--serve asr`: an OpenAI-compatible transcription server (`POST /v1/audio/transcriptions`), as
speaches / faster-whisper-server / FunASR's OpenAI mode offer, with a real offline recogniser:
pocketsphinx and the US-English acoustic model, language model and dictionary its PyPI wheel ships.

- multipart `file` (any format ffmpeg reads) and `model` (required, any id: it is recorded, not
  checked, so clients that send `whisper-1` work), optional `language` (English only: `en`,
  `en-US`, `english`), `prompt` and `temperature` (accepted, unused), `response_format` (`json`
  default, `text`, `verbose_json`, `srt`, `vtt`), `timestamp_granularities[]` (`word` adds words
  with times to verbose_json).
- Errors in OpenAI's shape `{"error": {"message", "type": "invalid_request_error", "param",
  "code"}}` (400), and `server_error` (500) for `--fail-rate`.
- `GET /health`, `GET /v1/models`.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import subprocess
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from .record import Recorder

DEFAULT_MODEL_NAME = "pocketsphinx-en-us"
RATE = 16000
FRAMES_PER_SECOND = 100  # pocketsphinx's frame rate
ENGLISH = {"en", "en-us", "en_us", "english", "en-gb"}
FORMATS = ("json", "text", "verbose_json", "srt", "vtt")
FILLERS = {"<s>", "</s>", "<sil>", "[noise]", "[speech]", "[laughter]"}


class Recogniser:
    """One pocketsphinx decoder (loading the model takes a second); calls are serialised."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoder = Decoder(samprate=RATE, loglevel="FATAL")
        self._lock = threading.Lock()

    def transcribe(self, pcm16k: bytes) -> tuple[str, list[dict[str, Any]]]:
        """The words heard in 16 kHz int16 mono PCM, and each word with its start/end in seconds."""
        with self._lock:
            d = self._decoder
            d.start_utt()
            d.process_raw(pcm16k, full_utt=True)
            d.end_utt()
            hyp = d.hyp()
            text = hyp.hypstr if hyp is not None else ""
            words = []
            for seg in d.seg():
                word = seg.word.split("(")[0]  # alternates are spelled "word(2)"
                if word in FILLERS:
                    continue
                words.append({"word": word, "start": round(seg.start_frame / FRAMES_PER_SECOND, 2),
                              "end": round((seg.end_frame + 1) / FRAMES_PER_SECOND, 2)})
        return text.strip(), words


def decode_audio(data: bytes) -> bytes:
    """Any audio file to 16 kHz mono int16 PCM (ffmpeg); raises ValueError when it is not audio."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", "pipe:0", "-ar", str(RATE), "-ac", "1", "-f", "s16le", "-"],
                       input=data, capture_output=True, timeout=120, check=False)
    if r.returncode != 0 or not r.stdout:
        raise ValueError(r.stderr.decode(errors="replace").strip() or "no audio")
    return r.stdout


def invalid(message: str, param: str | None, code: str | None = "invalid_value", status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}},
                        status_code=status)


def timestamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def build(recogniser: Recogniser, recorder: Recorder, model_name: str, fail_rate: float = 0.0,
          delay_ms: int = 0) -> FastAPI:
    app = FastAPI()
    ids = itertools.count(1)
    rng = random.Random()
    created = int(time.time())

    @app.get("/health")
    async def health() -> Response:
        return PlainTextResponse("OK")

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "created": created,
                                            "owned_by": "cmusphinx"}]}

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Response:
        form = await request.form()
        upload = form.get("file")
        model = form.get("model")
        language = str(form.get("language") or "") or None
        response_format = str(form.get("response_format") or "json")
        granularities = [str(g) for g in form.getlist("timestamp_granularities[]")]
        if upload is None or isinstance(upload, str):
            return invalid("Missing required parameter: 'file'.", "file", "missing_required_parameter")
        if not model:
            return invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter")
        if response_format not in FORMATS:
            return invalid(f"Invalid value: '{response_format}'. Supported values are: "
                           + ", ".join(f"'{f}'" for f in FORMATS) + ".", "response_format")
        if language is not None and language.lower() not in ENGLISH:
            return invalid(f"Unsupported language: '{language}'. This server recognises English only.", "language")
        data = await upload.read()
        job = f"job-{next(ids)}"
        fields = {"endpoint": "/v1/audio/transcriptions", "model": str(model), "language": language,
                  "response_format": response_format, "file_name": upload.filename, "bytes": len(data),
                  "sha256": hashlib.sha256(data).hexdigest()}
        recorder.write("call", job=job, serve="asr", **fields)
        started = time.monotonic()
        loop = asyncio.get_running_loop()

        def end(outcome: str, **extra: Any) -> None:
            recorder.write("end", job=job, serve="asr", **fields, outcome=outcome,
                           elapsed_ms=round((time.monotonic() - started) * 1000), **extra)

        try:
            pcm = await loop.run_in_executor(None, decode_audio, data)
        except ValueError as exc:
            end("failed", error="ValueError", message=str(exc))
            return invalid("Audio file might be corrupted or unsupported", "file")
        duration = len(pcm) / 2 / RATE
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if fail_rate > 0 and rng.random() < fail_rate:
            end("failed", error="RuntimeError", message="injected failure (--fail-rate)", duration=duration)
            return JSONResponse({"error": {"message": "injected failure (--fail-rate)", "type": "server_error",
                                           "param": None, "code": None}}, status_code=500)
        try:
            text, words = await loop.run_in_executor(None, recogniser.transcribe, pcm)
        except asyncio.CancelledError:
            end("client_closed", duration=duration)
            raise
        end("complete", transcript=text, duration=round(duration, 3), words=len(words))
        if response_format == "text":
            return PlainTextResponse(text + "\n")
        if response_format in ("srt", "vtt"):
            if response_format == "srt":
                body = f"1\n{timestamp(0, ',')} --> {timestamp(duration, ',')}\n{text}\n\n"
            else:
                body = f"WEBVTT\n\n{timestamp(0, '.')} --> {timestamp(duration, '.')}\n{text}\n\n"
            return PlainTextResponse(body)
        if response_format == "json":
            return JSONResponse({"text": text})
        verbose: dict[str, Any] = {
            "task": "transcribe", "language": "english", "duration": round(duration, 3), "text": text,
            "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": round(duration, 3), "text": text, "tokens": [],
                          "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 1.0,
                          "no_speech_prob": 0.0 if text else 1.0}],
        }
        if "word" in granularities:
            verbose["words"] = words
        return JSONResponse(verbose)

    return app


def serve(recogniser: Recogniser, recorder: Recorder, args: Any) -> None:
    import uvicorn

    app = build(recogniser, recorder, args.served_model_name or DEFAULT_MODEL_NAME, args.fail_rate,
                args.first_chunk_delay_ms)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
