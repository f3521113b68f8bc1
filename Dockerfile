# The logger on the current Node LTS. Native modules (serialport now, better-sqlite3 later)
# may compile from source, so the build stage has python3, make and g++.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY . .
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist/src ./dist/src
USER node
ENTRYPOINT ["node", "bin/kamstrup-logger"]
CMD ["read", "--meter", "sim://multical-402", "heat_energy", "power", "t1", "t2", "t_diff", "flow", "volume"]
