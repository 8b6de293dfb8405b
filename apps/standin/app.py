"""Stand-in CosyVoice servers with espeak-ng in place of the model: the Gradio web UI (CosyVoice's
`webui.py` or the Fun-CosyVoice3 English UI), the official FastAPI and gRPC servers, vLLM-Omni's
OpenAI-compatible speech endpoint, and an OpenAI-compatible transcription server (pocketsphinx).

    python apps/standin/app.py [--serve gradio|fastapi|grpc|openai|asr] [--variant official|cv3-en] \
        [--model cosyvoice3|cosyvoice2|cosyvoice1] [--port P] [--host 127.0.0.1] \
        [--first-chunk-delay-ms N] [--chunk-delay-ms N] [--fail-rate F] [--crash-after-chunks N] \
        [--force-warning] [--max-conc N] [--served-model-name NAME] [--record FILE] [--quiet]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import warnings

# gradio 5.4 warns about the UI's own layout (the fractional `scale` upstream's webui.py sets) at
# start, and on every streamed chunk that it converts the model's float32 audio to 16-bit (the
# real model yields float32 too). Both are faithful to the real UI and tell a person nothing.
warnings.filterwarnings("ignore", message=r"'scale' value should be an integer", category=UserWarning)
warnings.filterwarnings("ignore", message=r"Trying to convert audio automatically", category=UserWarning)

HERE = os.path.dirname(os.path.abspath(__file__))


def _fork_from_zygote() -> None:
    """In the README check (scripts/check-readme-examples.mjs sets STANDIN_ZYGOTE_APP=1 beside the
    fork server's STANDIN_ZYGOTE), `python app.py ARGS` is forked from the fork server, as
    `npm run standin` is: gradio is imported once per run, not once per start (about 4 s of CPU).
    Not in the test workers, which inherit STANDIN_ZYGOTE too: a test that runs app.py itself may
    set environment gradio reads at import. Only for this directory's own venv, whose gradio the
    fork server imported."""
    socket = os.environ.get("STANDIN_ZYGOTE", "")
    if os.environ.get("STANDIN_ZYGOTE_APP") != "1" or socket in ("", "off") or os.environ.get("STANDIN_PYTHON"):
        return
    if not os.path.exists(socket):
        return
    if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(HERE, ".venv")):
        return
    client = os.path.join(HERE, "fork_client.py")
    os.execv(sys.executable, [sys.executable, "-S", client, socket, *sys.argv[1:]])


if __name__ == "__main__":
    _fork_from_zygote()

sys.path.insert(0, HERE)

from cvstandin.model import FakeCosyVoice, Timing
from cvstandin.record import Recorder

# default ports: the web UI 7860 as before (upstream webui.py says 8000); as upstream for the rest:
# the FastAPI and gRPC servers 50000; vLLM 8000 (the docs start vLLM-Omni on 8091); speaches 8000
DEFAULT_PORTS = {"gradio": 7860, "fastapi": 50000, "grpc": 50000, "openai": 8091, "asr": 8000}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--serve", choices=list(DEFAULT_PORTS), default="gradio",
                   help="which server to be (default gradio: the web UI)")
    p.add_argument("--variant", choices=["official", "cv3-en"], default="official",
                   help="--serve gradio only: which UI to rebuild")
    p.add_argument("--model", choices=["cosyvoice3", "cosyvoice2", "cosyvoice1"], default="cosyvoice3")
    p.add_argument("--port", type=int, default=None, help="default: 7860 gradio, 50000 fastapi/grpc, 8091 openai, "
                   "8000 asr")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--first-chunk-delay-ms", type=int, default=0)
    p.add_argument("--chunk-delay-ms", type=int, default=0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--force-warning", action="store_true")
    p.add_argument("--crash-after-chunks", type=int, default=None)
    p.add_argument("--max-conc", type=int, default=4,
                   help="--serve grpc only: worker threads and concurrent RPCs (upstream's --max_conc)")
    p.add_argument("--served-model-name", default=None,
                   help="--serve openai|asr: the model id /v1/models lists and requests must name")
    p.add_argument("--record", default=None, help="append a JSON-lines record of calls and chunks to FILE")
    p.add_argument("--quiet", action="store_true", help="no start-up banner from gradio (npm start prints its own)")
    p.add_argument("--check-fast-adts", action="store_true",
                   help="print, as JSON, gradio's own AAC conversion of sample chunks beside the stand-in's one-run "
                        "conversion (cvstandin/fast_adts.py), and exit")
    args = p.parse_args(argv)
    if not 0.0 <= args.fail_rate <= 1.0:
        p.error("--fail-rate must be between 0 and 1")
    for name in ("first_chunk_delay_ms", "chunk_delay_ms"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must not be negative")
    if args.crash_after_chunks is not None and args.crash_after_chunks < 1:
        p.error("--crash-after-chunks must be at least 1")
    if args.max_conc < 1:
        p.error("--max-conc must be at least 1")
    if args.serve != "gradio" and args.force_warning:
        p.error("--force-warning is a web UI knob (--serve gradio)")
    if args.serve == "openai" and args.model != "cosyvoice3":
        p.error("--serve openai is vLLM-Omni serving Fun-CosyVoice3: use --model cosyvoice3")
    if args.port is None:
        args.port = DEFAULT_PORTS[args.serve]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.check_fast_adts:
        import json

        from cvstandin import fast_adts

        print(json.dumps(fast_adts.self_check()))
        return
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"stand-in: missing system packages: {' '.join(missing)} (apt-get install {' '.join(missing)})")
    recorder = Recorder(args.record)
    if args.serve == "asr":
        from cvstandin import serve_asr

        recorder.write("start", serve="asr", port=args.port, pid=os.getpid())
        serve_asr.serve(serve_asr.Recogniser(), recorder, args)
        return
    model = FakeCosyVoice(args.model, Timing(args.first_chunk_delay_ms, args.chunk_delay_ms))
    if args.serve == "gradio":
        serve_gradio(args, model, recorder)
        return
    from cvstandin.calls import Calls, Knobs

    calls = Calls(recorder, Knobs(args.fail_rate, args.crash_after_chunks, args.first_chunk_delay_ms,
                                  args.chunk_delay_ms), args.serve, args.model, model.sample_rate)
    recorder.write("start", serve=args.serve, model=args.model, port=args.port, pid=os.getpid())
    if args.serve == "fastapi":
        from cvstandin import serve_fastapi

        serve_fastapi.serve(model, calls, args.host, args.port, args.quiet)
    elif args.serve == "grpc":
        from cvstandin import serve_grpc

        serve_grpc.serve(model, calls, args.host, args.port, args.max_conc, args.quiet)
    else:
        from cvstandin import serve_openai

        serve_openai.serve(model, calls, args)


def serve_gradio(args: argparse.Namespace, model: FakeCosyVoice, recorder: Recorder) -> None:
    from cvstandin import fast_adts
    from cvstandin.jobs import Faults, Jobs

    # The streamed chunks' AAC as gradio makes it, byte for byte, in one ffmpeg run (fast_adts.py).
    fast_adts.install()
    jobs = Jobs(recorder, Faults(args.fail_rate, args.force_warning, args.crash_after_chunks),
                model.sample_rate, args.variant, args.model)
    if args.variant == "official":
        from cvstandin import ui_official as ui
    else:
        from cvstandin import ui_cv3en as ui
    demo = build_once(ui.build, model, jobs)
    recorder.write("start", variant=args.variant, model=args.model, port=args.port, pid=os.getpid())
    demo.launch(server_name=args.host, server_port=args.port, quiet=args.quiet)


def build_once(build, *args):
    """`build(*args)`, without the two FastAPI apps gradio 5.4 makes and throws away while building.

    gradio 5.4 creates the whole server app (some 400 routes, each with its pydantic models) when
    the `with gr.Blocks()` block ends, again in `queue()`, and a third time in `launch()`, which is
    the one it serves: the first two are replaced before anything reads them. They are two thirds
    of a stand-in's start-up CPU (about 0.4 s of 0.6 s), and tests start some 200 stand-ins a run.
    The served app is made exactly as before, by `launch()`. Only on the gradio this was checked
    against (5.4.0, the pinned one); `npm run test:compat`'s other versions build as they always do.
    """
    import gradio as gr
    from gradio import routes

    if gr.__version__ != "5.4.0":
        return build(*args)
    real = routes.App.__dict__["create_app"]
    routes.App.create_app = staticmethod(lambda *_a, **_k: None)
    try:
        return build(*args)
    finally:
        routes.App.create_app = real


if __name__ == "__main__":
    main()
