# The logger on the current Node LTS: 26 (Active LTS since October 2026; better-sqlite3 12.11
# supports it), on Debian 13, the base the Node images default to since 26. better-sqlite3
# compiles from source where no prebuilt binary can be fetched, so the build stage has
# python3, make and g++.
FROM node:26-trixie-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY . .
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:26-trixie-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/config ./config
COPY --from=build /app/kamstrup-logger.example.yaml /app/kamstrup-logger.schema.json ./
RUN mkdir /data && chown node:node /data
USER node
ENV KAMSTRUP_STORAGE__PATH=/data/kamstrup.sqlite
VOLUME /data
# A heap ceiling far above what the daemon keeps (~20 MB) makes V8 collect before it has grown
# to several times that: a large backlog drains in ~135 MB instead of ~190 MB (README, memory).
ENTRYPOINT ["node", "--max-old-space-size=256", "bin/kamstrup-logger"]
CMD ["run", "--config", "config/demo.yaml"]
