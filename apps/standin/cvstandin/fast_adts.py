"""gradio 5's streamed-audio conversion (WAV chunk -> AAC in ADTS), in one ffmpeg run instead of three.

For every chunk a streaming `gr.Audio` output sends, gradio 5 calls `Audio._convert_to_adts`:
pydub's `AudioSegment.from_file` on the WAV bytes (an ffprobe, then an ffmpeg decode to WAV) and
`export(format="adts")` (a third process, the AAC encode). The chunks gradio hands it are the
16-bit PCM WAV files it wrote itself, so the first two processes only hand the same samples on.
This does the encode alone, with the command pydub's export runs (`ffmpeg -f wav -i IN -f adts
OUT`), so the AAC bytes a client receives are the same, byte for byte (`app.py --check-fast-adts`
compares the two; apps/standin/test/fast-adts-matches-gradio.test.ts runs it), at about a third of
the CPU. Anything else (not 16-bit PCM WAV, or ffmpeg failing) goes to gradio's own code.
"""
from __future__ import annotations

import io
import subprocess
import wave
from collections.abc import Callable
from typing import Any

_original: Callable[[bytes], tuple[bytes, float]] | None = None


def _pcm16_frames(data: bytes) -> tuple[int, int] | None:
    """(frames, sample rate) of a 16-bit PCM WAV, or None for anything else."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                return None
            return w.getnframes(), w.getframerate()
    except (wave.Error, EOFError):
        return None


def convert_to_adts(data: bytes) -> tuple[bytes, float]:
    """`Audio._convert_to_adts`: (ADTS bytes, duration in seconds) as gradio computes them."""
    assert _original is not None
    shape = _pcm16_frames(data)
    if shape is None or shape[1] <= 0:
        return _original(data)
    frames, rate = shape
    from pydub import AudioSegment  # gradio's own dependency; its `converter` is the ffmpeg it runs

    run = subprocess.run([AudioSegment.converter, "-y", "-f", "wav", "-i", "pipe:0", "-f", "adts", "pipe:1"],
                         input=data, capture_output=True)
    if run.returncode != 0:
        return _original(data)
    # pydub: len(segment) is round(1000 * frames / rate) milliseconds; gradio divides it by 1000.
    return run.stdout, round(1000 * frames / rate) / 1000.0


def install() -> bool:
    """Puts `convert_to_adts` in place of gradio's, where gradio has that hook (5.x); True if it did."""
    global _original
    from gradio.components import audio

    current = audio.Audio.__dict__.get("_convert_to_adts")
    if not isinstance(current, staticmethod):
        return False
    if current.__func__ is convert_to_adts:
        return True
    _original = current.__func__
    audio.Audio._convert_to_adts = staticmethod(convert_to_adts)
    return True


def self_check() -> dict[str, Any]:
    """`app.py --check-fast-adts`: the chunks the stand-in really streams (speech at both model
    rates, the validation silence, a chunk of three samples), written as gradio writes a streamed
    (rate, float32) output, and an 8-bit WAV; for each, gradio's own conversion beside this one."""
    import os
    import tempfile
    import warnings

    import numpy as np
    from gradio import processing_utils
    from gradio.components import audio

    from . import speech

    def gradio_wav(rate: int, samples: np.ndarray) -> bytes:
        path = os.path.join(tempfile.mkdtemp(), "audio.wav")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gradio's float32-to-int16 note, as in app.py
            processing_utils.audio_to_file(rate, samples, path, format="wav")
        with open(path, "rb") as f:
            return f.read()

    voice = speech.Voice()
    chunks = [
        gradio_wav(24000, speech.render("The weather is fine today.", voice, 24000)),
        gradio_wav(22050, speech.render("Please hold the line.", voice, 22050)),
        gradio_wav(24000, np.zeros(24000, dtype=np.float32) + 1e-9),
        gradio_wav(24000, np.array([0.5, -0.25, 0.125], dtype=np.float32)),
    ]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(16000)
        w.writeframes(bytes(range(256)) * 40)
    chunks.append(buf.getvalue())
    installed = install()
    assert _original is not None
    results = []
    for data in chunks:
        theirs, ours = _original(data), audio.Audio._convert_to_adts(data)
        results.append({"same_bytes": theirs[0] == ours[0], "bytes": len(ours[0]), "theirs_s": theirs[1], "ours_s": ours[1]})
    return {"installed": installed, "results": results, "shape_8bit": _pcm16_frames(chunks[-1])}
