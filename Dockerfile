# SitePatch in a container: `serve` (the console) by default, or `worker` (sync jobs of a PostgreSQL
# install). deploy/compose.yaml runs a whole install; the README's "Containers" section explains it.

FROM node:24-bookworm-slim AS build
# better-sqlite3 compiles from source where no prebuilt binary matches.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm rebuild --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    SITEPATCH_HOST=0.0.0.0 \
    SITEPATCH_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# 8080: the console (serve); 9464: a worker's /health, /ready and /metrics.
EXPOSE 8080 9464
ENTRYPOINT ["node", "bin/sitepatch.js"]
CMD ["serve"]
