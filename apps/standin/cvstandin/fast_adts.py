"""gradio 5's conversions of streamed audio, with fewer and cheaper ffmpeg runs and the same bytes.

1. Every chunk. For every chunk a streaming `gr.Audio` output sends, gradio 5 calls
   `Audio._convert_to_adts`: pydub's `AudioSegment.from_file` on the WAV bytes (an ffprobe, then an
   ffmpeg decode to WAV) and `export(format="adts")` (a third process, the AAC encode). The chunks
   gradio hands it are the 16-bit PCM WAV files it wrote itself, so the first two processes only
   hand the same samples on. `convert_to_adts` does the encode alone, with the command pydub's
   export runs (`ffmpeg -f wav -i IN -f adts OUT`). Anything else (not 16-bit PCM WAV, or ffmpeg
   failing) goes to gradio's own code.
2. The end of a stream. `Audio.combine_stream` joins the chunks' ADTS into one file and, for a
   `format="wav"` output such as the CosyVoice UIs', decodes it with `AudioSegment.from_file`:
   an ffprobe, whose answer pydub uses only to pick the PCM it asks ffmpeg for (AAC, decoded as
   planar float: 16-bit), then the decode. For a file that is a whole chain of ADTS frames that
   answer is known, so `_mediainfo_json` gives it and only the decode runs.
3. The ffmpeg pydub runs (`converter`): `STANDIN_FFMPEG` if set, else the static build the
   imageio-ffmpeg wheel ships, else the ffmpeg on PATH. Debian's ffmpeg links some 215 shared
   libraries and spends about 0.085 s of CPU starting, more than it spends encoding a chunk; the
   static build starts in under 0.01 s, and a test run converts some 1,600 chunks. gradio's own
   conversions and these run the same binary, so they still give the same bytes.
4. A run's memo (`STANDIN_ADTS_CACHE=DIR`, set by the test runner for its stand-ins). The encode is
   a pure function of the WAV bytes: the same sentence in the same voice is the same chunk, and a
   test run streams the same few sentences hundreds of times. With the variable set, each chunk's
   ADTS is kept in DIR under the SHA-256 of its WAV and handed back for the same WAV, so ffmpeg runs
   once per distinct chunk. The bytes are what ffmpeg gave for those exact input bytes; only
   successful encodes are kept, written whole (temporary file, then rename) so that stand-ins
   sharing DIR never read half a file.

`app.py --check-fast-adts` runs gradio's code beside this for the chunks and the joined stream the
stand-in really makes; apps/standin/test/fast-adts-matches-gradio.test.ts checks its answer.
"""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import threading
import wave
from collections.abc import Callable
from typing import Any

_original: Callable[[bytes], tuple[bytes, float]] | None = None
_original_mediainfo: Callable[..., Any] | None = None

# What ffprobe answers for an ADTS stream, in the fields pydub's from_file reads: the AAC decoder's
# samples are planar float, for which pydub asks ffmpeg for 16-bit PCM (self_check compares it
# with a real ffprobe's answer).
_ADTS_INFO = {"codec_type": "audio", "codec_name": "aac", "sample_fmt": "fltp"}


def converter() -> str:
    """The ffmpeg binary for pydub: $STANDIN_FFMPEG, else imageio-ffmpeg's static build, else PATH's."""
    chosen = os.environ.get("STANDIN_FFMPEG")
    if chosen:
        return chosen
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return "ffmpeg"


def _is_adts(path: Any) -> bool:
    """True when the file is ADTS frames end to end (sync word, layer 0, lengths chaining to EOF)."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    at = 0
    while at + 7 <= len(data):
        if data[at] != 0xFF or data[at + 1] & 0xF6 != 0xF0:
            return False
        length = ((data[at + 3] & 0x03) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
        if length < 7:
            return False
        at += length
    return at == len(data) and at > 0


def _mediainfo_json(filepath: Any, read_ahead_limit: int = -1) -> Any:
    """pydub's probe, answered without ffprobe for an ADTS file (see the module's note)."""
    assert _original_mediainfo is not None
    if _is_adts(filepath):
        return {"streams": [dict(_ADTS_INFO)], "format": {}}
    return _original_mediainfo(filepath, read_ahead_limit=read_ahead_limit)


def _pcm16_frames(data: bytes) -> tuple[int, int] | None:
    """(frames, sample rate) of a 16-bit PCM WAV, or None for anything else."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                return None
            return w.getnframes(), w.getframerate()
    except (wave.Error, EOFError):
        return None


def _memo_path(data: bytes) -> str | None:
    """Where the run's memo keeps the ADTS of this WAV, or None without a memo (the module's note)."""
    folder = os.environ.get("STANDIN_ADTS_CACHE")
    return os.path.join(folder, hashlib.sha256(data).hexdigest() + ".adts") if folder else None


def _remember(path: str, adts: bytes) -> None:
    """Keeps one encode in the memo, whole or not at all; a memo that cannot be written is skipped."""
    # A name of its own: two threads of one stand-in may encode the same chunk at once.
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(temporary, "wb") as f:
            f.write(adts)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def convert_to_adts(data: bytes) -> tuple[bytes, float]:
    """`Audio._convert_to_adts`: (ADTS bytes, duration in seconds) as gradio computes them."""
    assert _original is not None
    shape = _pcm16_frames(data)
    if shape is None or shape[1] <= 0:
        return _original(data)
    frames, rate = shape
    # pydub: len(segment) is round(1000 * frames / rate) milliseconds; gradio divides it by 1000.
    seconds = round(1000 * frames / rate) / 1000.0
    memo = _memo_path(data)
    if memo is not None:
        try:
            with open(memo, "rb") as f:
                return f.read(), seconds
        except OSError:
            pass  # not encoded yet in this run
    from pydub import (
        AudioSegment,  # gradio's own dependency; its `converter` is the ffmpeg it runs
    )

    run = subprocess.run([AudioSegment.converter, "-y", "-f", "wav", "-i", "pipe:0", "-f", "adts", "pipe:1"],
                         input=data, capture_output=True)
    if run.returncode != 0:
        return _original(data)
    if memo is not None and run.stdout:
        _remember(memo, run.stdout)
    return run.stdout, seconds


def install() -> bool:
    """Puts `convert_to_adts` in place of gradio's and the ADTS-aware probe in pydub's, and picks
    pydub's ffmpeg, where gradio has that hook (5.x); True if it did."""
    global _original, _original_mediainfo
    from gradio.components import audio
    from pydub import AudioSegment, audio_segment

    current = audio.Audio.__dict__.get("_convert_to_adts")
    if not isinstance(current, staticmethod):
        return False
    if current.__func__ is convert_to_adts:
        return True
    AudioSegment.converter = converter()
    _original = current.__func__
    audio.Audio._convert_to_adts = staticmethod(convert_to_adts)
    _original_mediainfo = audio_segment.mediainfo_json
    audio_segment.mediainfo_json = _mediainfo_json
    return True


def self_check() -> dict[str, Any]:
    """`app.py --check-fast-adts`: the chunks the stand-in really streams (speech at both model
    rates, the validation silence, a chunk of three samples), written as gradio writes a streamed
    (rate, float32) output, and an 8-bit WAV; for each, gradio's own conversion beside this one."""
    import tempfile
    import warnings

    import numpy as np
    from gradio import processing_utils
    from gradio.components import audio
    from pydub import AudioSegment

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
    os.environ.pop("STANDIN_ADTS_CACHE", None)  # every comparison runs the encoder itself
    results = []
    for data in chunks:
        theirs, ours = _original(data), audio.Audio._convert_to_adts(data)
        results.append({"same_bytes": theirs[0] == ours[0], "bytes": len(ours[0]), "theirs_s": theirs[1], "ours_s": ours[1]})
    return {"installed": installed, "results": results, "shape_8bit": _pcm16_frames(chunks[-1]),
            "combined": _check_combine([audio.Audio._convert_to_adts(c)[0] for c in (chunks[0], chunks[2], chunks[3])]),
            "memo": _check_memo(chunks[0]), "converter": AudioSegment.converter}


def _check_memo(data: bytes) -> dict[str, Any]:
    """The run's memo: the first conversion encodes and keeps the ADTS, the second is handed it back,
    and both are gradio's bytes."""
    import tempfile

    from gradio.components import audio

    assert _original is not None
    folder = tempfile.mkdtemp()
    os.environ["STANDIN_ADTS_CACHE"] = folder
    try:
        theirs = _original(data)[0]
        first = audio.Audio._convert_to_adts(data)[0]
        kept = sorted(os.listdir(folder))
        path = os.path.join(folder, kept[0]) if kept else ""
        if path:
            with open(path, "rb") as f:
                on_disk = f.read()
            # A memo entry differing from the encoder's answer would be handed back as it is.
            with open(path, "wb") as f:
                f.write(b"marker")
        second = audio.Audio._convert_to_adts(data)[0]
        return {"kept": len(kept), "first_same": first == theirs, "kept_same": bool(path) and on_disk == theirs,
                "served_from_memo": second == b"marker"}
    finally:
        os.environ.pop("STANDIN_ADTS_CACHE", None)


def _check_combine(stream: list[bytes]) -> dict[str, Any]:
    """The end of a stream as a `format="wav"` output makes it, with the probe answered here and
    with a real ffprobe: the same WAV bytes, and the probe's own answer in the fields pydub reads."""
    import asyncio

    from gradio.components import audio
    from pydub import audio_segment

    assert _original_mediainfo is not None
    output = audio.Audio(format="wav", streaming=True)

    def combined() -> tuple[str, bytes]:
        data = asyncio.run(output.combine_stream(stream, desired_output_format="wav"))
        with open(data.path, "rb") as f:
            return str(data.path), f.read()

    path, ours = combined()
    joined = os.path.join(os.path.dirname(path), "audio.mp3")
    audio_segment.mediainfo_json = _original_mediainfo
    try:
        _, theirs = combined()
    finally:
        audio_segment.mediainfo_json = _mediainfo_json
    probed = _original_mediainfo(joined)["streams"][0]
    with open(joined, "rb") as f:
        truncated = os.path.join(os.path.dirname(path), "truncated.aac")
        with open(truncated, "wb") as t:
            t.write(f.read()[:-3])
    return {"same_bytes": ours == theirs, "bytes": len(ours), "is_adts": _is_adts(joined),
            "probe_agrees": all(probed.get(k) == v for k, v in _ADTS_INFO.items()),
            "truncated_is_adts": _is_adts(truncated), "wav_is_adts": _is_adts(path)}
