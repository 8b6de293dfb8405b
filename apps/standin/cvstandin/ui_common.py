"""Handlers both UIs share word for word: the dice button and the mode radio's help text.

Gradio names their API endpoints after the functions (`/generate_seed`, `/change_instruction`),
so the names must stay as they are.
"""
from __future__ import annotations

import random
from collections.abc import Callable

import gradio as gr

from .jobs import Jobs


def seed_and_instruction_handlers(jobs: Jobs, instruct_dict: dict[str, str]) -> tuple[Callable, Callable]:
    """Returns `(generate_seed, change_instruction)` for a UI whose mode help texts are `instruct_dict`."""

    def generate_seed(request: gr.Request = None):
        jobs.record_call("generate_seed", {}, request)
        seed = random.randint(1, 100000000)
        return {"__type__": "update", "value": seed}

    def change_instruction(mode_checkbox_group, request: gr.Request = None):
        jobs.record_call("change_instruction", {"mode_checkbox_group": mode_checkbox_group}, request)
        return instruct_dict[mode_checkbox_group]

    return generate_seed, change_instruction
