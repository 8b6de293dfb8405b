"""`--serve fastapi`: CosyVoice's official FastAPI server (runtime/python/fastapi/server.py).

Same app as upstream's: `FastAPI()` with permissive CORS, and for each of `/inference_sft`,
`/inference_zero_shot`, `/inference_cross_lingual`, `/inference_instruct`, `/inference_instruct2`
one `async def` handler registered for GET and then POST, taking form fields (and a `prompt_wav`
upload) and answering a `StreamingResponse` of raw int16 PCM at the model's rate, no header, no
content type, one piece per sentence. So `/openapi.json` is what FastAPI generates for upstream.

Failures surface as upstream's do:
- a missing form field: FastAPI's 422;
- what the handler itself runs before streaming (reading `prompt_wav`; `inference_instruct2` on
  CosyVoice1, which has no such method): an exception, so a plain 500 "Internal Server Error";
- what the model raises while generating (CosyVoice3's `<|endofprompt|>` assertion, instruct on
  CosyVoice2/3, an unknown speaker, --fail-rate): the 200 and its headers are already sent, so
  the connection is cut mid-body (no terminating chunk); the message is only in the server log.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import StreamingResponse

from . import speech
from .aio import drive
from .calls import Call, Calls, sentence_count
from .model import FakeCosyVoice


def load_wav(upload: UploadFile, target_sr: int, min_sr: int = 16000) -> speech.AudioInfo:
    """CosyVoice's `load_wav(file, 16000)`: read, mix to mono, check the rate, resample."""
    data = upload.file.read()
    fd, path = tempfile.mkstemp(prefix="standin-prompt-", suffix=".audio")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        info = speech.read_audio(path)
    finally:
        os.unlink(path)
    if info.sample_rate != target_sr:
        assert info.sample_rate >= min_sr, f"wav sample rate {info.sample_rate} must be greater than {target_sr}"
    return speech.to_rate(info, target_sr)


def prompt_summary(info: speech.AudioInfo, upload: UploadFile) -> dict[str, Any]:
    return {"file_name": upload.filename, "sample_rate": info.sample_rate, "duration_ms": info.duration_ms}


def build(model: FakeCosyVoice, calls: Calls) -> FastAPI:
    app = FastAPI()
    # set cross region allowance (as upstream)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"],
                       allow_headers=["*"])

    def generate_data(call: Call, model_output: Any, tts_text: str) -> StreamingResponse:
        return StreamingResponse(drive(call, call.pieces(model_output, sentence_count(tts_text))))

    def failed(call: Call, exc: BaseException) -> None:
        call.end("failed", error=type(exc).__name__, message=str(exc))

    def load_prompt(call: Call, upload: UploadFile) -> speech.AudioInfo:
        try:
            info = load_wav(upload, 16000)
        except BaseException as exc:
            failed(call, exc)
            raise
        call.applied["prompt_wav"] = prompt_summary(info, upload)
        return info

    @app.get("/inference_sft")
    @app.post("/inference_sft")
    async def inference_sft(tts_text: str = Form(), spk_id: str = Form()):
        call = calls.start("/inference_sft", "sft", tts_text=tts_text, spk_id=spk_id)
        model_output = model.for_job(call).inference_sft(tts_text, spk_id)
        return generate_data(call, model_output, tts_text)

    @app.get("/inference_zero_shot")
    @app.post("/inference_zero_shot")
    async def inference_zero_shot(tts_text: str = Form(), prompt_text: str = Form(), prompt_wav: UploadFile = File()):
        call = calls.start("/inference_zero_shot", "zero_shot", tts_text=tts_text, prompt_text=prompt_text)
        prompt_speech_16k = load_prompt(call, prompt_wav)
        model_output = model.for_job(call).inference_zero_shot(tts_text, prompt_text, prompt_speech_16k)
        return generate_data(call, model_output, tts_text)

    @app.get("/inference_cross_lingual")
    @app.post("/inference_cross_lingual")
    async def inference_cross_lingual(tts_text: str = Form(), prompt_wav: UploadFile = File()):
        call = calls.start("/inference_cross_lingual", "cross_lingual", tts_text=tts_text)
        prompt_speech_16k = load_prompt(call, prompt_wav)
        model_output = model.for_job(call).inference_cross_lingual(tts_text, prompt_speech_16k)
        return generate_data(call, model_output, tts_text)

    @app.get("/inference_instruct")
    @app.post("/inference_instruct")
    async def inference_instruct(tts_text: str = Form(), spk_id: str = Form(), instruct_text: str = Form()):
        call = calls.start("/inference_instruct", "instruct", tts_text=tts_text, spk_id=spk_id,
                           instruct_text=instruct_text)
        model_output = model.for_job(call).inference_instruct(tts_text, spk_id, instruct_text)
        return generate_data(call, model_output, tts_text)

    @app.get("/inference_instruct2")
    @app.post("/inference_instruct2")
    async def inference_instruct2(tts_text: str = Form(), instruct_text: str = Form(), prompt_wav: UploadFile = File()):
        call = calls.start("/inference_instruct2", "instruct2", tts_text=tts_text, instruct_text=instruct_text)
        prompt_speech_16k = load_prompt(call, prompt_wav)
        try:
            model_output = model.for_job(call).inference_instruct2(tts_text, instruct_text, prompt_speech_16k)
        except BaseException as exc:  # CosyVoice1 has no inference_instruct2: a plain 500
            failed(call, exc)
            raise
        return generate_data(call, model_output, tts_text)

    return app


def serve(model: FakeCosyVoice, calls: Calls, host: str, port: int, quiet: bool) -> None:
    import uvicorn

    uvicorn.run(build(model, calls), host=host, port=port, log_level="warning" if quiet else "info")
