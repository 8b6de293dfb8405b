"""Stand-in CosyVoice web UI: a real Gradio app shaped exactly like CosyVoice's `webui.py`
(or the Fun-CosyVoice3 English UI), with espeak-ng in place of the model.

    python apps/standin/app.py --variant official|cv3-en --model cosyvoice3|cosyvoice2|cosyvoice1 \
        --port 7860 [--first-chunk-delay-ms N] [--chunk-delay-ms N] [--fail-rate F] \
        [--force-warning] [--crash-after-chunks N] [--record FILE] [--host 127.0.0.1] [--quiet]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cvstandin.jobs import Faults, Jobs, Recorder
from cvstandin.model import FakeCosyVoice, Timing


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", choices=["official", "cv3-en"], default="official")
    p.add_argument("--model", choices=["cosyvoice3", "cosyvoice2", "cosyvoice1"], default="cosyvoice3")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--first-chunk-delay-ms", type=int, default=0)
    p.add_argument("--chunk-delay-ms", type=int, default=0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--force-warning", action="store_true")
    p.add_argument("--crash-after-chunks", type=int, default=None)
    p.add_argument("--record", default=None, help="append a JSON-lines record of calls and chunks to FILE")
    p.add_argument("--quiet", action="store_true", help="no start-up banner from gradio (npm start prints its own)")
    args = p.parse_args(argv)
    if not 0.0 <= args.fail_rate <= 1.0:
        p.error("--fail-rate must be between 0 and 1")
    for name in ("first_chunk_delay_ms", "chunk_delay_ms"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must not be negative")
    if args.crash_after_chunks is not None and args.crash_after_chunks < 1:
        p.error("--crash-after-chunks must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"stand-in: missing system packages: {' '.join(missing)} (apt-get install {' '.join(missing)})")
    model = FakeCosyVoice(args.model, Timing(args.first_chunk_delay_ms, args.chunk_delay_ms))
    recorder = Recorder(args.record)
    jobs = Jobs(recorder, Faults(args.fail_rate, args.force_warning, args.crash_after_chunks),
                model.sample_rate, args.variant, args.model)
    if args.variant == "official":
        from cvstandin import ui_official as ui
    else:
        from cvstandin import ui_cv3en as ui
    demo = ui.build(model, jobs)
    recorder.write("start", variant=args.variant, model=args.model, port=args.port, pid=os.getpid())
    demo.launch(server_name=args.host, server_port=args.port, quiet=args.quiet)


if __name__ == "__main__":
    main()
