"""A fake CosyVoice model with the public surface `webui.py` uses (`sample_rate`,
`list_available_spks`, `inference_*`) and the real model's failures, speaking through espeak-ng.

The methods mirror `cosyvoice/cli/cosyvoice.py`: CosyVoice1 has `inference_instruct`,
CosyVoice2/3 have `inference_instruct2` (and `inference_instruct` asserts), CosyVoice3's LLM
asserts that `<|endofprompt|>` is present in prompt text + text, and a speed other than 1 in
streaming mode trips the model's "speed change only support non-stream" assertion.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import instruct, speech

ENDOFPROMPT = "<|endofprompt|>"

# The speakers of iic/CosyVoice-300M-SFT (spk2info.pt), with the espeak voice each maps to.
COSYVOICE1_SPEAKERS: dict[str, tuple[str, str, int]] = {
    "中文女": ("cmn", "f3", 62),
    "中文男": ("cmn", "m3", 38),
    "日语男": ("ja", "m3", 40),
    "粤语女": ("yue", "f3", 64),
    "英文女": ("en", "f3", 66),
    "英文男": ("en", "m3", 40),
    "韩语女": ("ko", "f3", 60),
}


@dataclass(frozen=True)
class Timing:
    """Sleeps before each chunk, like GPU work; in milliseconds."""

    first_chunk_delay_ms: int = 0
    chunk_delay_ms: int = 0


class FakeCosyVoice:
    """The stand-in "model". One chunk per sentence, each `{'tts_speech': (1, n) array}`."""

    def __init__(self, family: str, timing: Timing, sleep: Callable[[float], None] = time.sleep,
                 job: Any = None, instruct_text: str = "") -> None:
        if family not in ("cosyvoice1", "cosyvoice2", "cosyvoice3"):
            raise ValueError(f"unknown model {family}")
        self.family = family
        self.timing = timing
        self.sample_rate = 22050 if family == "cosyvoice1" else 24000
        self._sleep = sleep
        # The job told what each inference applied (its `note_applied`), and the instruction the
        # instruct entry points hand on to the shared speaking code.
        self._job = job
        self._instruct_text = instruct_text

    def for_job(self, job: Any) -> FakeCosyVoice:
        """The same model, sleeping through `job.sleep` so that cancelling the job wakes it, and
        telling `job.note_applied(applied)` (when it has one) what each inference applied."""
        return FakeCosyVoice(self.family, self.timing, job.sleep, job)

    def _instructed(self, instruct_text: str) -> FakeCosyVoice:
        return FakeCosyVoice(self.family, self.timing, self._sleep, self._job, instruct_text or "")

    def list_available_spks(self) -> list[str]:
        return list(COSYVOICE1_SPEAKERS) if self.family == "cosyvoice1" else []

    # --- the inference entry points webui.py calls -------------------------------------------

    def inference_sft(self, tts_text, spk_id, stream=False, speed=1.0, text_frontend=True):
        # A generator, as upstream: an unknown speaker fails when the first sentence is made
        # (spk2info[spk_id] in the frontend), not when the method is called.
        if spk_id not in COSYVOICE1_SPEAKERS or self.family != "cosyvoice1":
            raise KeyError(spk_id)
        language, variant, pitch = COSYVOICE1_SPEAKERS[spk_id]
        voice = speech.Voice(language=speech.language_of(tts_text) if language == "en" else language,
                             variant=variant, pitch=pitch)
        yield from self._speak(tts_text, "", voice, stream, speed)

    def inference_zero_shot(self, tts_text, prompt_text, prompt_wav, zero_shot_spk_id="", stream=False, speed=1.0,
                            text_frontend=True):
        info = speech.as_audio(prompt_wav)
        return self._speak(tts_text, prompt_text, speech.voice_for_prompt(info, tts_text), stream, speed)

    def inference_cross_lingual(self, tts_text, prompt_wav, zero_shot_spk_id="", stream=False, speed=1.0,
                                text_frontend=True):
        info = speech.as_audio(prompt_wav)
        # the cross-lingual frontend drops the prompt text: only tts_text reaches the LLM
        return self._speak(tts_text, "", speech.voice_for_prompt(info, tts_text), stream, speed)

    def inference_instruct(self, tts_text, spk_id, instruct_text, stream=False, speed=1.0, text_frontend=True):
        # A generator, as upstream: the assertion fires when iterated (CosyVoice2/3 inherit it).
        assert self.family == "cosyvoice1", "inference_instruct is only implemented for CosyVoice!"
        yield from self._instructed(instruct_text).inference_sft(tts_text, spk_id, stream=stream, speed=speed)

    def inference_instruct2(self, tts_text, instruct_text, prompt_wav, zero_shot_spk_id="", stream=False, speed=1.0,
                            text_frontend=True):
        if self.family == "cosyvoice1":
            raise AttributeError("'CosyVoice' object has no attribute 'inference_instruct2'")
        info = speech.as_audio(prompt_wav)
        # the instruct2 frontend puts instruct_text where the prompt text goes
        return self._instructed(instruct_text)._speak(tts_text, instruct_text, speech.voice_for_prompt(info, tts_text), stream, speed)

    # --- the shared "LLM + flow + vocoder" -------------------------------------------------------

    def _speak(self, tts_text: str, prompt_text: str, voice: speech.Voice, stream: bool, speed: float
               ) -> Iterator[dict[str, np.ndarray]]:
        # A generator: like the real model, nothing happens (and nothing fails) until iterated.
        sentences = speech.split_sentences(speech.clean_text(tts_text))
        # The seed the UI set via set_all_random_seed drives a small, repeatable voice variation.
        jitter = int(np.random.randint(-4, 5))
        if not stream and speed != 1.0:
            wpm = int(round(voice.words_per_minute * float(speed)))
        else:
            wpm = voice.words_per_minute
        voice = replace(voice, pitch=int(np.clip(voice.pitch + jitter, 0, 99)), words_per_minute=wpm)
        # The instruction, made audible (instruct.py); every inference says what it applied: in
        # each chunk (`applied`, beside `tts_speech`) and to the job, for the --record file.
        voice, applied = instruct.apply(voice, self._instruct_text)
        note = getattr(self._job, "note_applied", None)
        noted = False
        for index, sentence in enumerate(sentences):
            if self.family == "cosyvoice3" and ENDOFPROMPT not in prompt_text + tts_text:
                # CosyVoice3LM asserts token 151646 is in prompt_text + text
                raise AssertionError("<|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!")
            if stream and speed != 1.0:
                raise AssertionError("speed change only support non-stream inference mode")
            delay = self.timing.first_chunk_delay_ms if index == 0 else self.timing.chunk_delay_ms
            if delay > 0:
                self._sleep(delay / 1000.0)
            if not noted and note is not None:
                note(applied)
                noted = True
            samples = speech.render(sentence, voice, self.sample_rate)
            yield {"tts_speech": samples.reshape(1, -1), "applied": applied}
