# Vigil's image for docker-compose.yml: the compiled CLI, `vigil <command>` as the container's
# arguments (e.g. `run --config config/vigil.docker.yaml`).
FROM node:20.19-bookworm-slim
WORKDIR /app
COPY . .
# `npm ci` compiles to dist/ (the prepare script) with the dev dependencies, which go afterwards.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund && npm cache clean --force
ENV NODE_ENV=production
USER node
# Semi-spaces of up to 64 MiB (V8's default is at most 16): each batch and boundary allocates many
# short-lived objects, which then die young instead of being promoted and marked (benchmarks/RESULTS.md,
# alert latency). Costs up to 96 MiB more RSS at peak (two semi-spaces of 64 instead of 16 MiB).
ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/vigil.js"]
CMD ["--help"]
