"""`--serve openai`: vLLM-Omni serving Fun-CosyVoice3 (`vllm serve FunAudioLLM/Fun-CosyVoice3-0.5B-2512
--omni --port 8091`), its OpenAI-compatible speech endpoint.

What is rebuilt (from vLLM-Omni's docs/serving/speech_api.md, protocol/audio.py,
tts_adapters/cosyvoice3.py and vLLM's api_server error handlers):
- `GET /health` (200, empty), `GET /v1/models` (vLLM's model list), `GET /v1/audio/voices`
  (CosyVoice3 has no presets: `{"voices": [], "uploaded_voices": []}`).
- `POST /v1/audio/speech`, JSON: `input`, `model`, `voice`, `response_format` (wav | pcm | flac |
  mp3 | opus, default wav), `speed` (0.25..4), `stream`, `stream_format` (sse | audio),
  `ref_audio` (http(s) URL or base64 data URL), `ref_text`, and the other extension fields.
  CosyVoice3 needs `ref_audio` and `ref_text` on every request; the adapter puts
  `You are a helpful assistant.<|endofprompt|>` before `ref_text` unless it holds the marker;
  `instructions` and `voice` are not used.
- Answers: without streaming, the whole clip in the format asked (`audio/wav`, `audio/pcm`,
  `audio/flac`, `audio/mpeg`, `audio/ogg`); with `stream_format: "audio"` raw bytes as they are
  made (pcm, or wav with a streaming header whose sizes are 0xFFFFFFFF); with `stream: true` (no
  stream_format) or `stream_format: "sse"`, Server-Sent Events `speech.audio.delta` (base64
  audio) ... `speech.audio.done` (usage), or `speech.audio.error`. Always 24 kHz mono int16.
- Errors in vLLM's shape `{"error": {"message", "type", "param", "code"}}`: request validation
  400 "Bad Request"; the adapter's checks 400 "BadRequestError"; an unknown `model` 404
  "NotFoundError" (param "model"); a model failure without streaming 500
  "InternalServerError"; while streaming raw audio the connection is cut, over SSE a
  `speech.audio.error` event.
Cancel: close the connection, streaming or not (vLLM cancels a request whose client went away).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import struct
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import speech
from .aio import collect, drive
from .calls import Call, Calls, sentence_count
from .model import FakeCosyVoice

DEFAULT_MODEL_NAME = "FunAudioLLM/Fun-CosyVoice3-0.5B-2512"
SAMPLE_RATE = 24000
PROMPT_DELIMITER = "<|endofprompt|>"
PROMPT_PREFIX = f"You are a helpful assistant.{PROMPT_DELIMITER}"
MEDIA_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm", "flac": "audio/flac", "mp3": "audio/mpeg", "opus": "audio/ogg"}
REF_AUDIO_FORMAT_ERROR = "ref_audio must be a URL (http/https), base64 data URL (data:...), or file URI (file://...)"


class SpeechRequest(BaseModel):
    """vLLM-Omni's OpenAICreateSpeechRequest, the fields CosyVoice3 can meet."""

    input: str
    model: str | None = None
    voice: str | None = None
    instructions: str | None = None
    response_format: Literal["wav", "pcm", "flac", "mp3", "opus"] = "wav"
    sample_rate: int | None = Field(default=None, gt=0)
    speed: float | None = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["sse", "audio"] | None = None
    stream: bool = False
    task_type: Literal["CustomVoice", "VoiceDesign", "Base"] | None = None
    language: str | None = None
    ref_audio: str | None = None
    ref_text: str | None = None
    max_new_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_id(cls, voice: Any) -> Any:
        # OpenAI's `voice: {"id": ...}` form
        if isinstance(voice, dict):
            if "id" not in voice:
                raise ValueError("voice dict must contain 'id'")
            return voice["id"]
        return voice

    def is_raw_audio_stream(self) -> bool:
        return self.stream_format == "audio"

    def is_sse_stream(self) -> bool:
        return (self.stream or self.stream_format == "sse") and not self.is_raw_audio_stream()

    def is_streaming(self) -> bool:
        return self.is_raw_audio_stream() or self.is_sse_stream()

    @model_validator(mode="after")
    def _streaming_constraints(self) -> SpeechRequest:
        if self.is_streaming():
            if self.response_format not in ("pcm", "wav"):
                raise ValueError("Streaming (stream=true, stream_format='audio', or stream_format='sse') requires "
                                 f"response_format='pcm' or 'wav'. Got response_format='{self.response_format}'.")
            if self.speed is None:
                self.speed = 1.0
            elif self.speed != 1.0:
                raise ValueError("Speed adjustment is not supported when streaming. Set speed=1.0 or omit it.")
        return self


class ApiError(Exception):
    def __init__(self, message: str, err_type: str = "BadRequestError", status: int = 400,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.message, self.err_type, self.status, self.param = message, err_type, status, param


def error_body(message: str, err_type: str, code: int, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": err_type, "param": param, "code": code}}


def wav_header(sample_rate: int, data_bytes: int | None) -> bytes:
    """A 44-byte PCM16 mono WAV header; sizes 0xFFFFFFFF when streaming (unknown length)."""
    riff = 0xFFFFFFFF if data_bytes is None else 36 + data_bytes
    data = 0xFFFFFFFF if data_bytes is None else data_bytes
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", riff, b"WAVE", b"fmt ", 16, 1, 1, sample_rate,
                       sample_rate * 2, 2, 16, b"data", data)


def encode(pcm: bytes, fmt: str) -> bytes:
    """The whole clip in `fmt` (the PCM is what the record's pcm_sha256 covers)."""
    if fmt == "pcm":
        return pcm
    if fmt == "wav":
        return wav_header(SAMPLE_RATE, len(pcm)) + pcm
    args = {"flac": ["-f", "flac"], "mp3": ["-f", "mp3"], "opus": ["-c:a", "libopus", "-f", "ogg"]}[fmt]
    return subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "-",
                           *args, "-"], input=pcm, capture_output=True, check=True, timeout=120).stdout


def load_ref_audio(ref: str) -> tuple[speech.AudioInfo, dict[str, Any]]:
    """Fetches and decodes `ref_audio` (data URL or http(s) URL), as vLLM's MediaConnector does."""
    scheme = (urllib.parse.urlparse(ref).scheme or "").lower()
    if scheme == "data":
        header, sep, payload = ref.partition(",")
        if not sep or ";base64" not in header:
            raise ApiError("ref_audio data URL must be base64-encoded (data:<mime>;base64,<data>)")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(f"Failed to decode base64 ref_audio: {exc}") from exc
    elif scheme in ("http", "https"):
        import httpx

        try:
            r = httpx.get(ref, timeout=30, follow_redirects=True)
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise ApiError(f"Failed to fetch ref_audio from {ref}: {exc}") from exc
        data = r.content
    else:  # file:// needs --allowed-local-media-path on vLLM; this stand-in has none
        raise ApiError("Cannot load local files without `--allowed-local-media-path`.")
    fd, path = tempfile.mkstemp(prefix="standin-ref-", suffix=".audio")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        info = speech.read_audio(path)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the caller's bad input
        raise ApiError(f"Failed to load ref_audio: {exc}") from exc
    finally:
        os.unlink(path)
    return info, {"source": scheme, "bytes": len(data), "sample_rate": info.sample_rate,
                  "duration_ms": info.duration_ms}


async def until_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def cancel_on_disconnect(request: Request, work: Any) -> Any:
    """Runs `work`; if the client goes away first, cancels it (vLLM's with_cancellation)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(until_disconnect(request))
    done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        watcher.cancel()
        return task.result()
    task.cancel()
    try:
        await task
    except BaseException:  # noqa: BLE001 - the client is gone; the call recorded client_closed
        pass
    return None


def build(model: FakeCosyVoice, calls: Calls, model_name: str) -> FastAPI:
    app = FastAPI()
    created = int(time.time())

    @app.exception_handler(RequestValidationError)
    async def validation_exception_handler(_: Request, exc: RequestValidationError) -> JSONResponse:
        exc_str, errors_str = str(exc), str(exc.errors())
        message = f"{exc_str} {errors_str}" if exc.errors() and errors_str != exc_str else exc_str
        return JSONResponse(error_body(message, HTTPStatus.BAD_REQUEST.phrase, 400), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_exception_handler(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail), HTTPStatus(exc.status_code).phrase, exc.status_code),
                            status_code=exc.status_code)

    @app.exception_handler(ApiError)
    async def api_error_handler(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, exc.err_type, exc.status, exc.param), status_code=exc.status)

    @app.get("/health")
    async def health() -> Response:
        return Response(status_code=200)

    @app.get("/v1/models")
    async def show_available_models() -> dict[str, Any]:
        return {"object": "list", "data": [{
            "id": model_name, "object": "model", "created": created, "owned_by": "vllm", "root": model_name,
            "parent": None, "max_model_len": 32768,
            "permission": [{"id": "modelperm-standin", "object": "model_permission", "created": created,
                            "allow_create_engine": False, "allow_sampling": True, "allow_logprobs": True,
                            "allow_search_indices": False, "allow_view": True, "allow_fine_tuning": False,
                            "organization": "*", "group": None, "is_blocking": False}]}]}

    @app.get("/v1/audio/voices")
    async def list_voices() -> dict[str, Any]:
        return {"voices": [], "uploaded_voices": []}

    def validate(req: SpeechRequest) -> None:
        if req.model is not None and req.model != model_name:
            raise ApiError(f"The model `{req.model}` does not exist.", "NotFoundError", 404, "model")
        if not req.input or not req.input.strip():
            raise ApiError("Input text cannot be empty")
        if req.ref_audio is None:
            raise ApiError("CosyVoice3 requires 'ref_audio' (reference audio for voice cloning)")
        if (urllib.parse.urlparse(req.ref_audio).scheme or "").lower() not in ("http", "https", "data", "file"):
            raise ApiError(REF_AUDIO_FORMAT_ERROR)
        if not req.ref_text or not req.ref_text.strip():
            raise ApiError("CosyVoice3 requires 'ref_text' (transcript of the reference audio)")
        if req.sample_rate is not None and req.sample_rate != SAMPLE_RATE:
            raise ApiError(f"sample_rate={req.sample_rate} is not supported by the current TTS model; "
                           f"supported rates: {SAMPLE_RATE}")

    def usage(call: Call, req: SpeechRequest) -> dict[str, Any]:
        text_tokens = len(req.input.split())
        out_tokens = call.pcm_bytes // 2 // 960  # 25 codec frames a second at 24 kHz
        return {"input_tokens": text_tokens, "output_tokens": out_tokens, "total_tokens": text_tokens + out_tokens,
                "input_token_details": {"text_tokens": text_tokens, "audio_tokens": 0}}

    async def sse(call: Call, req: SpeechRequest, pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        def event(name: str, data: dict[str, Any]) -> bytes:
            return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        first = True
        try:
            async for pcm in pieces:
                audio = (wav_header(SAMPLE_RATE, None) + pcm) if first and req.response_format == "wav" else pcm
                first = False
                yield event("speech.audio.delta", {"type": "speech.audio.delta",
                                                   "audio": base64.b64encode(audio).decode(),
                                                   "response_format": req.response_format})
        except Exception as exc:  # noqa: BLE001 - reported in-band, as vLLM-Omni does
            yield event("speech.audio.error", {"type": "speech.audio.error", "error": {
                "message": str(exc), "type": "server_error", "param": None, "code": 500}})
            return
        yield event("speech.audio.done", {"type": "speech.audio.done", "usage": usage(call, req)})

    async def raw(req: SpeechRequest, pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        if req.response_format == "wav":
            yield wav_header(SAMPLE_RATE, None)
        async for pcm in pieces:
            yield pcm

    @app.post("/v1/audio/speech")
    async def create_speech(request: SpeechRequest, raw_request: Request) -> Response:
        validate(request)
        ref_text = request.ref_text or ""
        prefixed = ref_text if PROMPT_DELIMITER in ref_text else PROMPT_PREFIX + ref_text
        mode = "sse" if request.is_sse_stream() else "audio" if request.is_raw_audio_stream() else "none"
        call = calls.start("/v1/audio/speech", "zero_shot", tts_text=request.input, prompt_text=prefixed,
                           response_format=request.response_format, stream=mode, voice=request.voice,
                           instructions=request.instructions, request_model=request.model)
        call.applied.update({"response_format": request.response_format, "stream": mode, "speed": request.speed,
                             "sample_rate": SAMPLE_RATE, "ref_text_prefixed": prefixed != ref_text,
                             "instructions_used": False})
        try:
            info, summary = await asyncio.get_running_loop().run_in_executor(None, load_ref_audio, request.ref_audio)
        except ApiError as exc:
            call.end("failed", error="ApiError", message=exc.message)
            raise
        call.applied["ref_audio"] = summary
        speed = request.speed if request.speed is not None else 1.0
        output = model.for_job(call).inference_zero_shot(request.input, prefixed, info, speed=speed)
        pieces = call.pieces(output, sentence_count(request.input))
        if mode == "sse":
            return StreamingResponse(sse(call, request, drive(call, pieces)), media_type="text/event-stream")
        if mode == "audio":
            return StreamingResponse(raw(request, drive(call, pieces)), media_type=MEDIA_TYPES[request.response_format])
        try:
            pcm = await cancel_on_disconnect(raw_request, collect(call, pieces))
        except Exception as exc:  # noqa: BLE001 - the model failed: the call recorded it
            raise ApiError(str(exc), "InternalServerError", 500) from exc
        if pcm is None:  # the client went away
            return Response(status_code=499)
        body = await asyncio.get_running_loop().run_in_executor(None, encode, pcm, request.response_format)
        return Response(content=body, media_type=MEDIA_TYPES[request.response_format])

    return app


def serve(model: FakeCosyVoice, calls: Calls, args: Any) -> None:
    import uvicorn

    app = build(model, calls, args.served_model_name or DEFAULT_MODEL_NAME)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
