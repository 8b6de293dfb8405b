"""Stand-in for the CosyVoice web UIs: a Gradio app whose "model" is espeak-ng."""
