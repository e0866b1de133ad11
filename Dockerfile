# syntax=docker/dockerfile:1
#
# roomkeeper in a container.
#
#   docker build -t roomkeeper .
#   docker run -d --name roomkeeper \
#     -v roomkeeper-data:/data \
#     -e ROOMKEEPER_HOMESERVER_URL=https://matrix.example.org \
#     -e ROOMKEEPER_ACCESS_TOKEN_FILE=/run/secrets/roomkeeper-token \
#     -v /etc/roomkeeper/token:/run/secrets/roomkeeper-token:ro \
#     roomkeeper
#
# Config comes from ROOMKEEPER_* variables, or from a YAML file mounted into the container and
# named by ROOMKEEPER_CONFIG (e.g. -v ./roomkeeper.yaml:/config/roomkeeper.yaml:ro
# -e ROOMKEEPER_CONFIG=/config/roomkeeper.yaml); variables override the file. See
# docker-compose.example.yml for a local try-out next to a Synapse homeserver.
#
# Debian (glibc), not Alpine: classic-level ships no musl build for arm64, and the optional
# end-to-end encryption binding of matrix-bot-sdk is built for glibc only. A glibc image runs
# the prebuilt binaries the npm packages carry, so nothing is compiled and no compiler is needed.
# The major version is pinned, and is the one CI tests on (Node 20, the oldest that
# package.json's engines allow); rebuild to pick up Node patch releases and Debian fixes.
ARG NODE_VERSION=20

# ---- build: dev dependencies, TypeScript → dist/ -------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Dependencies first, in their own layer: it is reused until the lockfile changes.
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here, and no install script of a
# dependency is needed to compile (better-sqlite3 is for the benchmarks only).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, compiled code, non-root -----------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    ROOMKEEPER_DATA_DIR=/data \
    ROOMKEEPER_HTTP_LISTEN=0.0.0.0:9464
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: there is no tsc here for `prepare`, classic-level loads the prebuilt binary
# from its package at run time, and the crypto binding's postinstall would download a binary;
# without it roomkeeper runs with end-to-end encryption off and says so at start-up.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist

# The application files stay owned by root, so the daemon cannot change its own code; it writes
# only to the data directory. `node` (uid 1000) is the unprivileged user of the official image.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node

# The health and metrics endpoint (GET /livez, /readyz, /healthz, /metrics). It listens on every interface of
# the container so that Prometheus in a neighbouring container can scrape it; publish the port only
# where you want it (e.g. -p 127.0.0.1:9464:9464). Change it with ROOMKEEPER_HTTP_LISTEN, not in a
# config file: the variable replaces the file's whole `http` section. ROOMKEEPER_HTTP_LISTEN=off
# turns the endpoint off, and with it the HEALTHCHECK below (which then always fails).
EXPOSE 9464

# No curl in the slim image: Node's own fetch asks the endpoint. The port follows
# ROOMKEEPER_HTTP_LISTEN. The start period covers the first sync, which must complete before
# /readyz answers 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "const p=/:(\\d+)$/.exec(process.env.ROOMKEEPER_HTTP_LISTEN||'')?.[1]||'9464';fetch('http://127.0.0.1:'+p+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM from `docker stop` itself (a shell in between
# would not pass it on). The daemon handles it by finishing the commit in flight and closing the
# store, and gives up after 5 s, inside Docker's default 10 s grace before SIGKILL.
ENTRYPOINT ["node", "/app/bin/roomkeeper.js"]
CMD ["run"]
