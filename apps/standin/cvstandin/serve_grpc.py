"""`--serve grpc`: CosyVoice's official gRPC server (runtime/python/grpc/server.py).

The wire contract is apps/gateway/src/backends/cosyvoice-grpc/cosyvoice.proto (package
`cosyvoice`, service `CosyVoice`, server-streaming `Inference(Request) returns (stream Response)`),
compiled at start-up with grpcio-tools. As upstream:
- `grpc.server(ThreadPoolExecutor(max_workers=max_conc), maximum_concurrent_rpcs=max_conc)`:
  an RPC beyond `--max-conc` in flight is refused with RESOURCE_EXHAUSTED;
- the request's oneof picks sft / zero_shot / cross_lingual, and anything else is instruct;
- `prompt_audio` is raw int16 PCM at 16 kHz (divided by 2**15, no resampling);
- each model chunk is one Response whose `tts_audio` is int16 PCM at the model's rate;
- an exception from the model ends the call with grpcio's UNKNOWN "Exception iterating
  responses: <message>" (after the responses made before it).
Cancel: cancel the call; the model stops at once (its sleep wakes) and the call's `end` says
`client_closed`.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from concurrent import futures
from typing import Any

from . import speech
from .calls import CallCancelled, Calls, sentence_count
from .model import FakeCosyVoice

PROTO_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "gateway", "src", "backends",
                                          "cosyvoice-grpc"))


def load_protos() -> tuple[Any, Any]:
    """`cosyvoice_pb2`, `cosyvoice_pb2_grpc`, compiled in memory from the repository's .proto."""
    import grpc

    if PROTO_DIR not in sys.path:
        sys.path.insert(0, PROTO_DIR)
    return grpc.protos_and_services("cosyvoice.proto")


def build_servicer(model: FakeCosyVoice, calls: Calls, pb2: Any, pb2_grpc: Any) -> Any:
    class CosyVoiceServiceImpl(pb2_grpc.CosyVoiceServicer):
        def Inference(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802 - the RPC's name
            endpoint = "cosyvoice.CosyVoice/Inference"
            if request.HasField("sft_request"):
                r = request.sft_request
                call = calls.start(endpoint, "sft", tts_text=r.tts_text, spk_id=r.spk_id)
                m = model.for_job(call)
                output = m.inference_sft(r.tts_text, r.spk_id)
            elif request.HasField("zero_shot_request"):
                r = request.zero_shot_request
                call = calls.start(endpoint, "zero_shot", tts_text=r.tts_text, prompt_text=r.prompt_text)
                prompt = speech.from_pcm16(r.prompt_audio, 16000)
                call.applied["prompt_audio"] = {"bytes": len(r.prompt_audio), "sample_rate": 16000,
                                                "duration_ms": prompt.duration_ms}
                output = model.for_job(call).inference_zero_shot(r.tts_text, r.prompt_text, prompt)
            elif request.HasField("cross_lingual_request"):
                r = request.cross_lingual_request
                call = calls.start(endpoint, "cross_lingual", tts_text=r.tts_text)
                prompt = speech.from_pcm16(r.prompt_audio, 16000)
                call.applied["prompt_audio"] = {"bytes": len(r.prompt_audio), "sample_rate": 16000,
                                                "duration_ms": prompt.duration_ms}
                output = model.for_job(call).inference_cross_lingual(r.tts_text, prompt)
            else:
                # upstream: `else` is instruct, whether or not instruct_request is set
                r = request.instruct_request
                call = calls.start(endpoint, "instruct", tts_text=r.tts_text, spk_id=r.spk_id,
                                   instruct_text=r.instruct_text)
                output = model.for_job(call).inference_instruct(r.tts_text, r.spk_id, r.instruct_text)
            # the RPC was cancelled (or its deadline passed): wake the model, record client_closed
            context.add_callback(call.cancel)
            try:
                for pcm in call.pieces(output, sentence_count(r.tts_text)):
                    yield pb2.Response(tts_audio=pcm)
            except (CallCancelled, GeneratorExit):
                call.cancel()
                raise
            except BaseException as exc:
                call.end("failed", error=type(exc).__name__, message=str(exc))
                raise
            call.end("complete")

    return CosyVoiceServiceImpl()


def serve(model: FakeCosyVoice, calls: Calls, host: str, port: int, max_conc: int, quiet: bool) -> None:
    import grpc

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    pb2, pb2_grpc = load_protos()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_conc), maximum_concurrent_rpcs=max_conc)
    pb2_grpc.add_CosyVoiceServicer_to_server(build_servicer(model, calls, pb2, pb2_grpc), server)
    server.add_insecure_port(f"{host}:{port}")
    server.start()
    logging.info("server listening on %s:%s", host, port)
    server.wait_for_termination()
