# syntax=docker/dockerfile:1
# The chat server image. deploy/test/image-steps.test.ts replays the build
# stage's COPY/RUN steps as a plain script (CI has no Docker engine), so keep
# each step a command that also runs outside Docker.

# ---- build: the whole monorepo, native better-sqlite3 included -------------
FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@12
WORKDIR /src
# .pnpmfile.cjs points native builds at the image's own Node headers; scripts/ holds the install check.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .pnpmfile.cjs tsconfig.base.json ./
COPY scripts ./scripts
COPY packages ./packages
COPY apps ./apps
RUN pnpm install --frozen-lockfile
RUN pnpm build
# Production dependencies only (workspace packages as their dist/), plus the web client.
RUN pnpm --filter @chat/server deploy --prod /out && cp -r apps/web/dist /out/web

# ---- run: a current LTS Node, no build tools, not root ---------------------
FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATABASE_PATH=/data/chat.db WEB_ROOT=/app/web
WORKDIR /app
COPY --from=build --chown=node:node /out /app
# /data/files exists in the image, owned by node: a volume mounted there (the cluster's
# chat-files) starts with that owner, so the server can write its uploads.
RUN mkdir -p /data/files && chown -R node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server closes WebSockets with 1001, commits what it accepted and exits 0 on SIGTERM.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
