"""CosyVoice3 instructions made audible through espeak-ng.

The real model follows an instruction sentence (`You are a helpful assistant. 请用四川话表达。
<|endofprompt|>`, or free text such as "Speak slowly and softly."). The stand-in cannot speak a
dialect or an emotion, but it can make each control heard and measured:

- pace -> espeak's rate (words per minute): slow x0.6, fast x1.6; the clip is longer or shorter;
- emotion -> pitch and amplitude: happy higher, sad lower and quieter, angry higher and louder;
- volume -> amplitude (espeak -a, 0..200; 100 is espeak's default) and a small pitch nudge,
  because Gradio peak-normalises every streamed chunk (`convert_to_16_bit_wav`), so through the
  web UI amplitude alone would not be heard; servers that send raw PCM keep it;
- dialect -> a voice variant of its own per dialect (Cantonese also switches Chinese text to
  espeak's `yue`);
- role -> a variant (robot: `robosoft`) and pitch (Peppa Pig: high).

It recognises the phrases the SDK and the gateway build (design note section 4) and the same
controls in free text, Chinese or English. What it recognised and what espeak got is returned
as `applied`, which the model hands to the job so the `--record` file says it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .speech import Voice

_END = "<|endofprompt|>"

# Each control: value -> patterns (case-insensitive). Chinese pace words need their 语速 context:
# 快 alone is also in 快乐 (happy).
PACE: dict[str, list[str]] = {
    "slow": [r"慢地?语速", r"语速.{0,6}慢", r"慢(一)?点", r"慢慢", r"\bslow(ly|er)?\b"],
    "fast": [r"快地?语速", r"语速.{0,6}快", r"快(一)?点", r"快速", r"\b(fast(er)?|quick(ly|er)?|rapid(ly)?|hurried(ly)?)\b"],
}
EMOTION: dict[str, list[str]] = {
    "happy": [r"开心", r"高兴", r"快乐", r"愉快", r"\b(happy|happily|cheerful(ly)?|joyful(ly)?|excited(ly)?)\b"],
    "sad": [r"伤心", r"悲伤", r"难过", r"\b(sad(ly)?|sorrowful(ly)?|gloomy|mournful(ly)?)\b"],
    "angry": [r"生气", r"愤怒", r"\b(angry|angrily|furious(ly)?|anger)\b"],
}
VOLUME: dict[str, list[str]] = {
    "loud": [r"大声", r"响亮", r"\b(loud(ly|er)?|shout(ing)?)\b"],
    "soft": [r"小声", r"轻声", r"\b(soft(ly|er)?|quiet(ly|er)?|whisper(ing|ed)?|gentl[ey])\b"],
}
ROLE: dict[str, list[str]] = {
    "peppaPig": [r"小猪佩奇", r"\bpeppa\b"],
    "robot": [r"机器人", r"\brobot(ic)?\b"],
}
# key -> (Chinese name, extra patterns). The order is the SDK's, and gives each its variant.
DIALECTS: dict[str, tuple[str, list[str]]] = {
    "cantonese": ("广东话", [r"粤语", r"\bcantonese\b"]),
    "dongbei": ("东北话", [r"\bdongbei\b", r"\bnortheast(ern)?\b"]),
    "gansu": ("甘肃话", [r"\bgansu\b"]),
    "guizhou": ("贵州话", [r"\bguizhou\b"]),
    "henan": ("河南话", [r"\bhenan\b"]),
    "hubei": ("湖北话", [r"\bhubei\b"]),
    "hunan": ("湖南话", [r"\bhunan\b"]),
    "jiangxi": ("江西话", [r"\bjiangxi\b"]),
    "minnan": ("闽南话", [r"\bminnan\b", r"\bhokkien\b"]),
    "ningxia": ("宁夏话", [r"\bningxia\b"]),
    "shanxi": ("山西话", [r"\bshanxi\b"]),
    "shaanxi": ("陕西话", [r"\bshaanxi\b"]),
    "shandong": ("山东话", [r"\bshandong\b"]),
    "shanghai": ("上海话", [r"上海方言", r"\bshanghainese\b"]),
    "sichuan": ("四川话", [r"\bsichuan(ese)?\b", r"\bszechuan\b"]),
    "tianjin": ("天津话", [r"\btianjin\b"]),
    "yunnan": ("云南话", [r"\byunnan\b"]),
}
# One espeak variant per dialect, none of them the voices' own m3 / f3.
_DIALECT_VARIANTS = ["m1", "m2", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f4", "f5",
                     "klatt", "klatt2", "klatt3", "klatt4", "croak", "grandpa"]
DIALECT_VARIANT: dict[str, str] = dict(zip(DIALECTS, _DIALECT_VARIANTS))

RATE_FACTOR = {"slow": 0.6, "fast": 1.6}
EMOTION_EFFECT = {"happy": (+20, 120), "sad": (-20, 70), "angry": (+10, 170)}  # (pitch delta, amplitude)
VOLUME_EFFECT = {"loud": (+8, 190), "soft": (-8, 40)}


@dataclass(frozen=True)
class Controls:
    """What an instruction asks for, as the typed controls name it."""

    dialect: str | None = None
    emotion: str | None = None
    volume: str | None = None
    pace: str | None = None
    role: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _first(table: dict[str, list[str]], text: str) -> str | None:
    for value, patterns in table.items():
        if any(re.search(p, text, re.IGNORECASE) for p in patterns):
            return value
    return None


def instruction_body(instruct_text: str | None) -> str:
    """The instruction without the system prefix and the end marker."""
    text = instruct_text or ""
    text = text.split(_END)[0] if _END in text else text
    return re.sub(r"^\s*You are a helpful assistant\.\s*", "", text, flags=re.IGNORECASE).strip()


def parse(instruct_text: str | None) -> Controls:
    """The controls an instruction asks for (free text or the SDK's phrases); none for none."""
    body = instruction_body(instruct_text)
    if not body:
        return Controls()
    dialect = next((k for k, (name, extra) in DIALECTS.items()
                    if name in body or any(re.search(p, body, re.IGNORECASE) for p in extra)), None)
    return Controls(dialect=dialect, emotion=_first(EMOTION, body), volume=_first(VOLUME, body),
                    pace=_first(PACE, body), role=_first(ROLE, body))


def apply(voice: Voice, instruct_text: str | None) -> tuple[Voice, dict[str, Any]]:
    """The voice with the instruction's controls applied, and the record of what was applied."""
    controls = parse(instruct_text)
    pitch, amplitude, wpm = voice.pitch, voice.amplitude, voice.words_per_minute
    language, variant = voice.language, voice.variant
    if controls.pace:
        wpm = int(round(wpm * RATE_FACTOR[controls.pace]))
    if controls.emotion:
        delta, amplitude = EMOTION_EFFECT[controls.emotion]
        pitch += delta
    if controls.volume:
        delta, amplitude = VOLUME_EFFECT[controls.volume]
        pitch += delta
    if controls.dialect:
        variant = DIALECT_VARIANT[controls.dialect]
        if controls.dialect == "cantonese" and language == "cmn":
            language = "yue"
    if controls.role == "robot":
        variant = "robosoft"
    elif controls.role == "peppaPig":
        variant, pitch = "f5", max(pitch, 90)
    out = replace(voice, language=language, variant=variant, pitch=int(np.clip(pitch, 0, 99)),
                  words_per_minute=int(np.clip(wpm, 80, 450)), amplitude=int(np.clip(amplitude, 0, 200)))
    body = instruction_body(instruct_text)
    applied: dict[str, Any] = {
        "controls": controls.as_dict(),
        "espeak": {"voice": f"{out.language}+{out.variant}", "rate": out.words_per_minute,
                   "pitch": out.pitch, "amplitude": out.amplitude},
    }
    if body and not applied["controls"]:
        applied["unrecognised"] = body  # heard as the plain voice
    return out, applied
