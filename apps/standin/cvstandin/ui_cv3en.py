"""The Fun-CosyVoice3 English web UI ("cv3-en"): 9 parameters (no speaker dropdown), English
labels and modes, adds the CosyVoice3 prompt prefix itself, and returns after a validation
warning instead of carrying on.
"""
from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np

from . import speech
from .jobs import Job, Jobs
from .model import FakeCosyVoice
from .seeding import set_all_random_seed
from .ui_common import seed_and_instruction_handlers

PREFIX = "You are a helpful assistant.<|endofprompt|>"
inference_mode_list = ["3s Zero-Shot", "Cross-Lingual", "Instruct"]
instruct_dict = {
    "3s Zero-Shot": "1. Select prompt audio file or record it. Note: Max 30s. If both provided, file takes precedence.\n"
                    "2. Enter prompt text.\n3. Click Generate Audio button.",
    "Cross-Lingual": "1. Select prompt audio file or record it. Note: Max 30s. If both provided, file takes precedence.\n"
                     "2. Click Generate Audio button.",
    "Instruct": "1. Select prompt audio file.\n2. Enter instruct text (control language, emotion, speed, etc.).\n"
                "3. Click Generate Audio button.",
}
stream_mode_list = [("No", False), ("Yes", True)]
PROMPT_SR = 16000


def build(model: FakeCosyVoice, jobs: Jobs) -> gr.Blocks:
    """Returns the Blocks app; `demo.queue(...)` is already applied."""
    default_data = np.zeros(model.sample_rate)

    generate_seed, change_instruction = seed_and_instruction_handlers(jobs, instruct_dict)

    def validate_and_speak(job: Job, cosyvoice: FakeCosyVoice, tts_text, mode_checkbox_group, prompt_text, prompt_wav_upload, prompt_wav_record,
                           instruct_text, seed, stream, speed):
        if prompt_wav_upload is not None:
            prompt_wav = prompt_wav_upload
        elif prompt_wav_record is not None:
            prompt_wav = prompt_wav_record
        else:
            prompt_wav = None
        silence = (cosyvoice.sample_rate, default_data)
        if mode_checkbox_group == "Instruct":
            if instruct_text == "":
                job.warning("You are using Instruct Mode, please enter instruct text")
                yield silence
                return
            if prompt_wav is None:
                job.warning("Please provide prompt audio")
                yield silence
                return
        if mode_checkbox_group == "Cross-Lingual":
            if instruct_text != "":
                job.info("You are using Cross-Lingual Mode, instruct text will be ignored")
            if prompt_wav is None:
                job.warning("You are using Cross-Lingual Mode, please provide prompt audio")
                yield silence
                return
            job.info("You are using Cross-Lingual Mode, please ensure synth text and prompt text are different languages")
        if mode_checkbox_group == "3s Zero-Shot":
            if prompt_wav is None:
                job.warning("Prompt audio is empty, did you forget to upload it?")
                yield silence
                return
            rate = speech.read_audio(prompt_wav).sample_rate
            if rate < PROMPT_SR:
                job.warning(f"Prompt audio sample rate {rate} is lower than {PROMPT_SR}")
                yield silence
                return
            if prompt_text == "":
                job.warning("Prompt text is empty, did you forget to enter it?")
                yield silence
                return
            if instruct_text != "":
                job.info("You are using 3s Zero-Shot Mode, instruct text will be ignored!")

        if mode_checkbox_group == "3s Zero-Shot":
            set_all_random_seed(seed)
            chunks = cosyvoice.inference_zero_shot(tts_text, PREFIX + prompt_text, prompt_wav, stream=stream, speed=speed)
        elif mode_checkbox_group == "Cross-Lingual":
            set_all_random_seed(seed)
            chunks = cosyvoice.inference_cross_lingual(PREFIX + tts_text, prompt_wav, stream=stream, speed=speed)
        else:
            set_all_random_seed(seed)
            chunks = cosyvoice.inference_instruct2(tts_text, instruct_text, prompt_wav, stream=stream, speed=speed)
        for i in chunks:
            yield (cosyvoice.sample_rate, i["tts_speech"].flatten())

    async def generate_audio(tts_text, mode_checkbox_group, prompt_text, prompt_wav_upload, prompt_wav_record, instruct_text,
                       seed, stream, speed, request: gr.Request = None):
        inputs: dict[str, Any] = dict(
            tts_text=tts_text, mode_checkbox_group=mode_checkbox_group, prompt_text=prompt_text,
            prompt_wav_upload=prompt_wav_upload, prompt_wav_record=prompt_wav_record, instruct_text=instruct_text,
            seed=seed, stream=stream, speed=speed)
        async for chunk in jobs.run(inputs, request, lambda job: validate_and_speak(job, model.for_job(job), **inputs)):
            yield chunk

    with gr.Blocks() as demo:
        gr.Markdown("""
        ### Fun-CosyVoice3 Speech Synthesis

        🎤 **Fun-CosyVoice3-0.5B-2512** - Latest Generation Speech Synthesis Model

        [GitHub](https://github.com/FunAudioLLM/CosyVoice) |
        [ModelScope](https://www.modelscope.cn/models/FunAudioLLM/Fun-CosyVoice3-0.5B-2512) |
        [HuggingFace](https://huggingface.co/FunAudioLLM/Fun-CosyVoice3-0.5B-2512) |
        [Paper](https://arxiv.org/pdf/2505.17589)
        """)
        gr.Markdown("#### Please enter text to synthesize, choose inference mode, and follow the steps below")

        tts_text = gr.Textbox(
            label="Input Text", lines=1,
            value="I am a new generative speech model launched by the Tongyi Lab Speech Team, "
                  "providing comfortable and natural speech synthesis capabilities.")
        with gr.Row():
            mode_checkbox_group = gr.Radio(choices=inference_mode_list, label="Inference Mode",
                                           value=inference_mode_list[0])
            instruction_text = gr.Text(label="Instructions", value=instruct_dict[inference_mode_list[0]], scale=0.5)
            stream = gr.Radio(choices=stream_mode_list, label="Stream Inference", value=stream_mode_list[0][1])
            speed = gr.Number(value=1, label="Speed Adjustment (Non-streaming only)", minimum=0.5, maximum=2.0,
                              step=0.1)
            with gr.Column(scale=0.25):
                seed_button = gr.Button(value="\U0001f3b2")
                seed = gr.Number(value=0, label="Random Seed")

        with gr.Row():
            prompt_wav_upload = gr.Audio(sources="upload", type="filepath",
                                         label="Select prompt audio file (Sample rate >= 16kHz)")
            prompt_wav_record = gr.Audio(sources="microphone", type="filepath", label="Record prompt audio")
        prompt_text = gr.Textbox(
            label="Input Prompt Text", lines=1,
            placeholder="Please enter prompt text (must match audio content). Automatic recognition not supported yet...",
            value="")
        instruct_text = gr.Textbox(label="Input Instruct Text", lines=1,
                                   placeholder="Example: Please speak this in Cantonese <|endofprompt|>", value="")

        generate_button = gr.Button("Generate Audio")

        audio_output = gr.Audio(label="Generated Audio", autoplay=True, streaming=True)

        seed_button.click(generate_seed, inputs=[], outputs=seed)
        generate_button.click(generate_audio,
                              inputs=[tts_text, mode_checkbox_group, prompt_text, prompt_wav_upload, prompt_wav_record,
                                      instruct_text, seed, stream, speed],
                              outputs=[audio_output])
        mode_checkbox_group.change(fn=change_instruction, inputs=[mode_checkbox_group], outputs=[instruction_text])
    demo.queue(max_size=4, default_concurrency_limit=2)
    return demo
