# syntax=docker/dockerfile:1

# Production dependencies only, installed from the lockfile. Optional packages
# are left out: they are the embedded PostgreSQL binaries (and Bun itself),
# which a container never needs because it always runs with DATABASE_URL.
# Node 24 brings npm 11, the npm that writes the lockfile (with every
# platform's optional packages), and the engines slonik asks for.
# tests/docker-image.test.ts assembles this image from these lines and runs it.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
COPY --from=deps /app/node_modules ./node_modules
# tsconfig.json carries jsxImportSource (hono/jsx): without it Bun compiles the
# .tsx pages for React and the server dies at its first import.
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY sql ./sql
COPY migrations ./migrations
# The image's unprivileged user; nothing in /app is writable by it.
USER bun
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch(`http://127.0.0.1:${process.env.PORT}/healthz`); process.exit(r.ok ? 0 : 1)"]
# Exec form: bun is PID 1 and receives SIGTERM itself, so in-flight requests
# finish before the container stops (see the shutdown handler in src/main.ts).
CMD ["bun", "src/main.ts"]
