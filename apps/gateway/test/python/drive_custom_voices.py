"""Drives the gateway's /v1 custom voices and voice consents with the official `openai` client.

Usage: drive_custom_voices.py BASE_URL KEY_A KEY_B CONSENT_WAV PROMPT_WAV
Prints one JSON object: what each call returned or raised, for the test to check.
"""
import json
import sys

import openai
from openai import OpenAI

base, key_a, key_b, consent_wav, prompt_wav = sys.argv[1:6]
a = OpenAI(api_key=key_a, base_url=base, max_retries=0)
b = OpenAI(api_key=key_b, base_url=base, max_retries=0)
out = {"version": openai.__version__}


def refused(call):
    """The error class, status and body of a call that must fail."""
    try:
        call()
    except openai.APIStatusError as e:
        return {"class": type(e).__name__, "status": e.status_code, "error": (e.body or {})}
    return {"class": None}


def rec(path):
    return open(path, "rb")


# Consents: create three, page through them two at a time, read, rename.
c1 = a.audio.voice_consents.create(name="Ann", language="en-US", recording=rec(consent_wav))
c2 = a.audio.voice_consents.create(name="Bo", language="en", recording=("bo.wav", open(consent_wav, "rb").read(), "audio/wav"))
c3 = a.audio.voice_consents.create(name="Cy", language="zh-CN", recording=rec(consent_wav))
out["consent"] = c1.model_dump()
first = a.audio.voice_consents.list(limit=2)
out["page1"] = {"ids": [c.id for c in first.data], "has_more": first.has_more}
out["all_ids"] = [c.id for c in a.audio.voice_consents.list(limit=2)]
out["created_ids"] = [c1.id, c2.id, c3.id]
out["retrieved"] = a.audio.voice_consents.retrieve(c1.id).model_dump()
out["renamed"] = a.audio.voice_consents.update(c1.id, name="Ann (signed)").model_dump()

# The other key sees none of them.
out["b_list"] = [c.id for c in b.audio.voice_consents.list()]
out["b_retrieve"] = refused(lambda: b.audio.voice_consents.retrieve(c1.id))
out["b_update"] = refused(lambda: b.audio.voice_consents.update(c1.id, name="mine"))
out["b_delete"] = refused(lambda: b.audio.voice_consents.delete(c1.id))

# Mistakes, each named by its parameter.
out["bad_language"] = refused(lambda: a.audio.voice_consents.create(name="X", language="english!!", recording=rec(consent_wav)))
out["bad_recording"] = refused(lambda: a.audio.voice_consents.create(name="X", language="en", recording=("x.wav", b"this is not audio" * 20, "audio/wav")))
out["bad_limit"] = refused(lambda: a.audio.voice_consents.list(limit=0))
out["rename_empty"] = refused(lambda: a.audio.voice_consents.update(c1.id, name=" "))

# A voice under the consent; the other key cannot use that consent or the voice.
voice = a.audio.voices.create(name="Ann voice", audio_sample=rec(prompt_wav), consent=c1.id)
out["voice"] = voice.model_dump()
out["b_voice_with_a_consent"] = refused(lambda: b.audio.voices.create(name="Stolen", audio_sample=rec(prompt_wav), consent=c1.id))
out["voice_empty_consent"] = refused(lambda: a.audio.voices.create(name="X", audio_sample=rec(prompt_wav), consent=""))
out["voice_unknown_consent"] = refused(lambda: a.audio.voices.create(name="X", audio_sample=rec(prompt_wav), consent="cons_nope"))
out["voice_prompt_type"] = refused(lambda: a.audio.voices.create(name="Designed", prompt="A warm, low voice", type="prompt"))
out["voice_not_audio"] = refused(lambda: a.audio.voices.create(name="X", audio_sample=("x.wav", b"not audio" * 50, "audio/wav"), consent=c1.id))

# Speech with the custom voice, whole and streamed.
speech = a.audio.speech.create(model="gpt-4o-mini-tts", voice={"id": voice.id}, input="Hello from my own voice.", response_format="wav")
out["speech_bytes"] = len(speech.content)
out["speech_type"] = speech.response.headers.get("content-type")
with a.audio.speech.with_streaming_response.create(model="tts-1", voice={"id": voice.id}, input="Streamed, as Home Assistant asks.", response_format="mp3", instructions="None") as r:
    out["streamed_bytes"] = sum(len(chunk) for chunk in r.iter_bytes())
out["b_speech"] = refused(lambda: b.audio.speech.create(model="tts-1", voice={"id": voice.id}, input="Hi."))

# Deleting: not by the other key; once by the owner; then gone.
out["b_voice_delete"] = refused(lambda: b.audio.voices.delete(voice.id))
out["voice_deleted"] = a.audio.voices.delete(voice.id).model_dump()
out["voice_delete_again"] = refused(lambda: a.audio.voices.delete(voice.id))
out["consent_deleted"] = a.audio.voice_consents.delete(c1.id).model_dump()
out["consent_gone"] = refused(lambda: a.audio.voice_consents.retrieve(c1.id))
print(json.dumps(out))
