"""The speech engine behind the stand-in model: espeak-ng, plus prompt-audio analysis.

Everything here is deterministic: the same text, voice settings and prompt audio always give
the same samples, which is what lets tests compare two runs.
"""
from __future__ import annotations

import re
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

ESPEAK_RATE = 22050  # espeak-ng always renders at 22050 Hz

# CosyVoice markup that must not be spoken: the instruct prefix up to <|endofprompt|>,
# language tags (<|en|>), fine-grained tags ([breath], [laughter]) and <strong>...</strong>.
_PREFIX_RE = re.compile(r"^.*<\|endofprompt\|>", re.DOTALL)
_SPECIAL_RE = re.compile(r"<\|[^|>]*\|>")
_BRACKET_TAG_RE = re.compile(r"\[[a-z_ ]+\]", re.IGNORECASE)
_HTML_TAG_RE = re.compile(r"</?[a-z]+>", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Removes CosyVoice markup so espeak-ng reads only the words."""
    text = _PREFIX_RE.sub("", text)
    text = _SPECIAL_RE.sub(" ", text)
    text = _BRACKET_TAG_RE.sub(" ", text)
    text = _HTML_TAG_RE.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Splits cleaned text into sentences; each becomes one audio chunk."""
    parts: list[str] = []
    buf = ""
    for ch in text:
        buf += ch
        if ch in "。！？；…\n":
            parts.append(buf)
            buf = ""
    if buf:
        parts.append(buf)
    out: list[str] = []
    for part in parts:
        # ASCII terminal punctuation only ends a sentence when followed by whitespace or the end.
        out.extend(re.split(r"(?<=[.!?;])\s+", part))
    return [s.strip() for s in out if re.search(r"\w", s)]


def language_of(text: str) -> str:
    """Picks an espeak-ng voice for the script the text is written in."""
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if re.search(r"[\uac00-\ud7af]", text):
        return "ko"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "cmn"
    return "en"


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings derived from the prompt audio / speaker, the seed and the speed."""

    language: str = "en"
    variant: str = "m3"
    pitch: int = 50  # espeak -p, 0..99
    words_per_minute: int = 175  # espeak -s
    amplitude: int = 100  # espeak -a, 0..200 (instruct volume and emotion, see instruct.py)


def render(sentence: str, voice: Voice, sample_rate: int) -> np.ndarray:
    """Speaks one sentence; returns float32 samples in [-1, 1] at `sample_rate`."""
    args = [
        "espeak-ng", "--stdout",
        "-v", f"{voice.language}+{voice.variant}",
        "-p", str(voice.pitch),
        "-s", str(voice.words_per_minute),
        "-a", str(voice.amplitude),
        sentence,
    ]
    wav = subprocess.run(args, check=True, capture_output=True, timeout=60).stdout
    # espeak writes a streaming header (sizes 0x7fffffff): take everything after "data".
    idx = wav.find(b"data")
    if idx < 0:
        raise RuntimeError("espeak-ng produced no audio")
    pcm = np.frombuffer(wav[idx + 8:len(wav) - ((len(wav) - idx - 8) % 2)], dtype="<i2")
    samples = pcm.astype(np.float32) / 32768.0
    return resample(samples, ESPEAK_RATE, sample_rate)


def resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Linear-interpolation resampling: enough for speech that only has to be recognisable."""
    if src == dst or len(samples) == 0:
        return samples.astype(np.float32)
    n = int(round(len(samples) * dst / src))
    x_new = np.arange(n, dtype=np.float64) * (src / dst)
    return np.interp(x_new, np.arange(len(samples)), samples).astype(np.float32)


@dataclass(frozen=True)
class AudioInfo:
    """What the real UI learns from `torchaudio.info` plus the samples the model would load."""

    sample_rate: int
    channels: int
    frames: int
    samples: np.ndarray  # mono float32

    @property
    def duration_ms(self) -> int:
        return int(round(self.frames * 1000 / self.sample_rate)) if self.sample_rate else 0


def read_audio(path: str) -> AudioInfo:
    """Reads an audio file as torchaudio would: PCM WAV directly, anything else via ffmpeg.

    Raises like torchaudio does when the file is missing or not audio (the real UI then fails
    with a hidden error).
    """
    if path is None:
        # torchaudio.info(None) raises too; the official UI reaches this after its warning.
        raise TypeError("Invalid file: None")
    try:
        with wave.open(path, "rb") as w:
            rate, channels, width, frames = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
            raw = w.readframes(frames)
        if width == 2:
            data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        elif width == 1:
            data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
        elif width == 4:
            data = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
        else:
            raise wave.Error("unsupported sample width")
        frames = len(data) // max(channels, 1)
        mono = data[: frames * channels].reshape(frames, channels).mean(axis=1) if channels > 1 else data
        return AudioInfo(rate, channels, frames, mono.astype(np.float32))
    except (wave.Error, EOFError):
        return _read_with_ffmpeg(path)


def _read_with_ffmpeg(path: str) -> AudioInfo:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels",
         "-of", "default=noprint_wrappers=1", path],
        capture_output=True, text=True, timeout=30,
    )
    fields = dict(line.split("=", 1) for line in probe.stdout.split() if "=" in line)
    if probe.returncode != 0 or "sample_rate" not in fields:
        raise RuntimeError(f"Failed to open the input \"{path}\"")
    rate = int(fields["sample_rate"])
    channels = int(fields.get("channels", "1"))
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-f", "f32le", "-ac", "1", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout
    mono = np.frombuffer(pcm, dtype="<f4").astype(np.float32)
    return AudioInfo(rate, channels, len(mono), mono)


def estimate_pitch_hz(info: AudioInfo) -> float | None:
    """Median fundamental frequency of the voiced frames (autocorrelation), or None if silent."""
    x = info.samples[: info.sample_rate * 10]
    rate = info.sample_rate
    if len(x) < rate // 20:
        return None
    frame = int(rate * 0.04)
    hop = frame // 2
    lo, hi = int(rate / 400), int(rate / 60)  # 60..400 Hz
    peak = float(np.max(np.abs(x))) or 1.0
    f0s: list[float] = []
    for start in range(0, len(x) - frame - hi, hop):
        seg = x[start:start + frame + hi].astype(np.float64)
        if np.sqrt(np.mean(seg[:frame] ** 2)) < 0.05 * peak:
            continue
        seg = seg - seg.mean()
        # lag 0..hi of the frame against the window that follows it
        ac = np.correlate(seg, seg[:frame], mode="valid")
        if ac[0] <= 0:
            continue
        lag = lo + int(np.argmax(ac[lo:hi + 1]))
        if ac[lag] / ac[0] > 0.3:
            f0s.append(rate / lag)
    return float(np.median(f0s)) if f0s else None


def voice_for_prompt(info: AudioInfo | None, text: str) -> Voice:
    """A voice that follows the prompt: its pitch sets espeak's pitch and variant."""
    language = language_of(text)
    f0 = estimate_pitch_hz(info) if info is not None else None
    if f0 is None:
        return Voice(language=language)
    pitch = int(np.clip(round((f0 - 70.0) / 230.0 * 99.0), 0, 99))
    variant = "f3" if f0 >= 165 else "m3"
    return Voice(language=language, variant=variant, pitch=pitch)


def as_audio(prompt: str | AudioInfo) -> AudioInfo:
    """The prompt as the model takes it: a file path (the web UI) or audio already loaded
    (the FastAPI and gRPC servers hand the model 16 kHz samples)."""
    if isinstance(prompt, AudioInfo):
        return prompt
    return read_audio(prompt)


def from_pcm16(data: bytes, sample_rate: int) -> AudioInfo:
    """Raw little-endian int16 mono PCM (gRPC's prompt_audio) as loaded audio."""
    usable = len(data) - (len(data) % 2)
    samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
    return AudioInfo(sample_rate, 1, len(samples), samples)


def to_rate(info: AudioInfo, sample_rate: int) -> AudioInfo:
    """The same audio resampled (what `load_wav(file, 16000)` does after reading)."""
    if info.sample_rate == sample_rate:
        return info
    samples = resample(info.samples, info.sample_rate, sample_rate)
    return AudioInfo(sample_rate, 1, len(samples), samples)


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples to int16 bytes exactly as CosyVoice's servers do: `(x * 2**15).astype(int16)`."""
    return (np.asarray(samples, dtype=np.float32) * (2 ** 15)).astype(np.int16).tobytes()
