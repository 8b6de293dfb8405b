"""The official CosyVoice `webui.py`, rebuilt component for component (labels, choices,
defaults, placeholders, event order, queue settings), with the fake model behind it.

Its validation flow is kept as it is upstream, quirks included: a failed check calls
gr.Warning, yields one second of silence and then carries on, so e.g. a missing prompt audio
goes on to fail inside the audio reader as a hidden error.
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

inference_mode_list = ['预训练音色', '3s极速复刻', '跨语种复刻', '自然语言控制']
instruct_dict = {
    '预训练音色': '1. 选择预训练音色\n2. 点击生成音频按钮',
    '3s极速复刻': '1. 选择prompt音频文件，或录入prompt音频，注意不超过30s，若同时提供，优先选择prompt音频文件\n2. 输入prompt文本\n3. 点击生成音频按钮',
    '跨语种复刻': '1. 选择prompt音频文件，或录入prompt音频，注意不超过30s，若同时提供，优先选择prompt音频文件\n2. 点击生成音频按钮',
    '自然语言控制': '1. 选择预训练音色\n2. 输入instruct文本\n3. 点击生成音频按钮',
}
stream_mode_list = [('否', False), ('是', True)]
PROMPT_SR = 16000


def build(model: FakeCosyVoice, jobs: Jobs) -> gr.Blocks:
    """Returns the Blocks app; `demo.queue(...)` is already applied."""
    sft_spk = model.list_available_spks() or ['']
    default_data = np.zeros(model.sample_rate)

    generate_seed, change_instruction = seed_and_instruction_handlers(jobs, instruct_dict)

    def validate_and_speak(job: Job, cosyvoice: FakeCosyVoice, tts_text, mode_checkbox_group, sft_dropdown, prompt_text, prompt_wav_upload,
                           prompt_wav_record, instruct_text, seed, stream, speed):
        if prompt_wav_upload is not None:
            prompt_wav = prompt_wav_upload
        elif prompt_wav_record is not None:
            prompt_wav = prompt_wav_record
        else:
            prompt_wav = None
        if mode_checkbox_group in ['自然语言控制']:
            if instruct_text == '':
                job.warning('您正在使用自然语言控制模式, 请输入instruct文本')
                yield (cosyvoice.sample_rate, default_data)
            if prompt_wav is not None or prompt_text != '':
                job.info('您正在使用自然语言控制模式, prompt音频/prompt文本会被忽略')
        if mode_checkbox_group in ['跨语种复刻']:
            if instruct_text != '':
                job.info('您正在使用跨语种复刻模式, instruct文本会被忽略')
            if prompt_wav is None:
                job.warning('您正在使用跨语种复刻模式, 请提供prompt音频')
                yield (cosyvoice.sample_rate, default_data)
            job.info('您正在使用跨语种复刻模式, 请确保合成文本和prompt文本为不同语言')
        if mode_checkbox_group in ['3s极速复刻', '跨语种复刻']:
            if prompt_wav is None:
                job.warning('prompt音频为空，您是否忘记输入prompt音频？')
                yield (cosyvoice.sample_rate, default_data)
            # torchaudio.info(prompt_wav) upstream: raises on None or a non-audio file
            rate = speech.read_audio(prompt_wav).sample_rate
            if rate < PROMPT_SR:
                job.warning(f'prompt音频采样率{rate}低于{PROMPT_SR}')
                yield (cosyvoice.sample_rate, default_data)
        if mode_checkbox_group in ['预训练音色']:
            if instruct_text != '' or prompt_wav is not None or prompt_text != '':
                job.info('您正在使用预训练音色模式，prompt文本/prompt音频/instruct文本会被忽略！')
            if sft_dropdown == '':
                job.warning('没有可用的预训练音色！')
                yield (cosyvoice.sample_rate, default_data)
        if mode_checkbox_group in ['3s极速复刻']:
            if prompt_text == '':
                job.warning('prompt文本为空，您是否忘记输入prompt文本？')
                yield (cosyvoice.sample_rate, default_data)
            if instruct_text != '':
                job.info('您正在使用3s极速复刻模式，预训练音色/instruct文本会被忽略！')

        if mode_checkbox_group == '预训练音色':
            set_all_random_seed(seed)
            chunks = cosyvoice.inference_sft(tts_text, sft_dropdown, stream=stream, speed=speed)
        elif mode_checkbox_group == '3s极速复刻':
            set_all_random_seed(seed)
            chunks = cosyvoice.inference_zero_shot(tts_text, prompt_text, prompt_wav, stream=stream, speed=speed)
        elif mode_checkbox_group == '跨语种复刻':
            set_all_random_seed(seed)
            chunks = cosyvoice.inference_cross_lingual(tts_text, prompt_wav, stream=stream, speed=speed)
        else:
            set_all_random_seed(seed)
            chunks = cosyvoice.inference_instruct(tts_text, sft_dropdown, instruct_text, stream=stream, speed=speed)
        for i in chunks:
            yield (cosyvoice.sample_rate, i['tts_speech'].flatten())

    async def generate_audio(tts_text, mode_checkbox_group, sft_dropdown, prompt_text, prompt_wav_upload, prompt_wav_record,
                       instruct_text, seed, stream, speed, request: gr.Request = None):
        inputs: dict[str, Any] = dict(
            tts_text=tts_text, mode_checkbox_group=mode_checkbox_group, sft_dropdown=sft_dropdown,
            prompt_text=prompt_text, prompt_wav_upload=prompt_wav_upload, prompt_wav_record=prompt_wav_record,
            instruct_text=instruct_text, seed=seed, stream=stream, speed=speed)
        async for chunk in jobs.run(inputs, request, lambda job: validate_and_speak(job, model.for_job(job), **inputs)):
            yield chunk

    with gr.Blocks() as demo:
        gr.Markdown("### 代码库 [CosyVoice](https://github.com/FunAudioLLM/CosyVoice) \
                    预训练模型 [CosyVoice-300M](https://www.modelscope.cn/models/iic/CosyVoice-300M) \
                    [CosyVoice-300M-Instruct](https://www.modelscope.cn/models/iic/CosyVoice-300M-Instruct) \
                    [CosyVoice-300M-SFT](https://www.modelscope.cn/models/iic/CosyVoice-300M-SFT)")
        gr.Markdown("#### 请输入需要合成的文本，选择推理模式，并按照提示步骤进行操作")

        tts_text = gr.Textbox(label="输入合成文本", lines=1,
                              value="我是通义实验室语音团队全新推出的生成式语音大模型，提供舒适自然的语音合成能力。")
        with gr.Row():
            mode_checkbox_group = gr.Radio(choices=inference_mode_list, label='选择推理模式', value=inference_mode_list[0])
            instruction_text = gr.Text(label="操作步骤", value=instruct_dict[inference_mode_list[0]], scale=0.5)
            sft_dropdown = gr.Dropdown(choices=sft_spk, label='选择预训练音色', value=sft_spk[0], scale=0.25)
            stream = gr.Radio(choices=stream_mode_list, label='是否流式推理', value=stream_mode_list[0][1])
            speed = gr.Number(value=1, label="速度调节(仅支持非流式推理)", minimum=0.5, maximum=2.0, step=0.1)
            with gr.Column(scale=0.25):
                seed_button = gr.Button(value="\U0001F3B2")
                seed = gr.Number(value=0, label="随机推理种子")

        with gr.Row():
            prompt_wav_upload = gr.Audio(sources='upload', type='filepath', label='选择prompt音频文件，注意采样率不低于16khz')
            prompt_wav_record = gr.Audio(sources='microphone', type='filepath', label='录制prompt音频文件')
        prompt_text = gr.Textbox(label="输入prompt文本", lines=1,
                                 placeholder="请输入prompt文本，需与prompt音频内容一致，暂时不支持自动识别...", value='')
        instruct_text = gr.Textbox(label="输入instruct文本", lines=1, placeholder="请输入instruct文本.", value='')

        generate_button = gr.Button("生成音频")

        audio_output = gr.Audio(label="合成音频", autoplay=True, streaming=True)

        seed_button.click(generate_seed, inputs=[], outputs=seed)
        generate_button.click(generate_audio,
                              inputs=[tts_text, mode_checkbox_group, sft_dropdown, prompt_text, prompt_wav_upload,
                                      prompt_wav_record, instruct_text, seed, stream, speed],
                              outputs=[audio_output])
        mode_checkbox_group.change(fn=change_instruction, inputs=[mode_checkbox_group], outputs=[instruction_text])
    demo.queue(max_size=4, default_concurrency_limit=2)
    return demo
