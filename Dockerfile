# syntax=docker/dockerfile:1

# Production dependencies only, installed from the lockfile. Optional packages
# are left out: they are the embedded PostgreSQL binaries (and Bun itself),
# which a container never needs because it always runs with DATABASE_URL.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
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
