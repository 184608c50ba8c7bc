# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are resolved once with the lockfile, the runtime image holds
# production dependencies only and runs as a non-root user. TypeScript runs through tsx
# (`node --import tsx`), the same command `npm start` uses, so there is no separate build output.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
# HOST: inside a container the published port reaches the server only on every interface.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY webhooks ./webhooks
COPY workers ./workers
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Same as `npm start`; the compose file overrides it with --role=web / --role=worker.
CMD ["node", "--import", "tsx", "src/main.ts"]
