# syntax=docker/dockerfile:1
# The stand-in CosyVoice web UI (apps/standin) for demos and load tests, built from the
# repository root:
#   docker build -f deploy/standin.Dockerfile -t cosyvoice3-standin .
# A real Gradio server with CosyVoice's interface and espeak-ng as the voice: no GPU, no model.

FROM python:3.11-slim-bookworm
# espeak-ng speaks; ffmpeg is what gradio uses to stream audio as AAC/HLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY apps/standin/requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY apps/standin/app.py ./
COPY apps/standin/cvstandin ./cvstandin
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin standin
USER 10001
ENV GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1 \
    VARIANT=cv3-en \
    MODEL=cosyvoice3 \
    PORT=7860
EXPOSE 7860
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/config' % os.environ.get('PORT', '7860'), timeout=2)"]
# Shell form on purpose: the variables choose the UI; exec keeps python as PID 1 for signals.
# hadolint ignore=DL3025
CMD exec python app.py --host 0.0.0.0 --port "$PORT" --variant "$VARIANT" --model "$MODEL"
