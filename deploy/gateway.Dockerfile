# syntax=docker/dockerfile:1
# The CosyVoice3 gateway (apps/gateway), built from the repository root:
#   docker build -f deploy/gateway.Dockerfile -t cosyvoice3-gateway .
# Stage 1 builds the SDK and the gateway with the lockfile's dependencies; stage 2 installs only
# the production dependencies; the runtime stage runs as the unprivileged `node` user (uid 1000).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
# pnpm itself, at the version package.json pins (packageManager).
RUN corepack enable
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/sdk/package.json packages/sdk/
COPY apps/gateway/package.json apps/gateway/

FROM manifests AS build
RUN pnpm install --frozen-lockfile --filter "cosyvoice3-gateway..."
COPY tsconfig.base.json ./
COPY packages/sdk packages/sdk
COPY apps/gateway apps/gateway
RUN pnpm --filter "cosyvoice3-gateway..." run build

FROM manifests AS prod-deps
RUN pnpm install --frozen-lockfile --prod --filter "cosyvoice3-gateway..."

FROM ${NODE_IMAGE} AS runtime
# ffmpeg: the encoders of the OpenAI route and of other audio formats run it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5000 \
    DATA_DIR=/data
# The workspace layout is kept (pnpm links packages with relative symlinks).
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=prod-deps /src/packages/sdk/node_modules ./packages/sdk/node_modules
COPY --from=prod-deps /src/apps/gateway/node_modules ./apps/gateway/node_modules
COPY --from=build /src/packages/sdk/package.json ./packages/sdk/
COPY --from=build /src/packages/sdk/dist ./packages/sdk/dist
COPY --from=build /src/apps/gateway/package.json ./apps/gateway/
COPY --from=build /src/apps/gateway/dist ./apps/gateway/dist
COPY --from=build /src/package.json ./
RUN mkdir -p /data && chown 1000:1000 /data
VOLUME ["/data"]
# uid 1000 is the image's `node` user; numeric so that a host or Kubernetes can check it is not root.
USER 1000:1000
EXPOSE 5000
# /healthz is the process alone (no backend call), so a slow GPU box never restarts the gateway.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
WORKDIR /app/apps/gateway
CMD ["node", "--max-semi-space-size=4", "dist/main.js"]
