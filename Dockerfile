# Estuary in a container: `docker build -t estuary .` then
# `docker run -p 1935:1935 -p 8501:8501 -p 8000:8000 -v estuary-data:/data estuary`.
# Untested on the machines Estuary is developed on (no container engine runs there); checked with
# a Dockerfile linter only. See deploy/ for compose and systemd examples.

# --- build: the compiler and dev dependencies, discarded afterwards
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the prepare script (tsc) runs below, once the sources are in.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# --- runtime: production dependencies and the compiled code, as an unprivileged user
FROM node:20-slim
ENV NODE_ENV=production \
    ESTUARY_DATA_DIR=/data \
    ESTUARY_LOG_FORMAT=json
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY web ./web
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1935 8501 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:8000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/estuary.js"]
CMD ["serve"]
