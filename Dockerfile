# Vigil's image for docker-compose.yml: the compiled CLI, `vigil <command>` as the container's
# arguments (e.g. `run --config config/vigil.docker.yaml`).
FROM node:20.19-bookworm-slim
WORKDIR /app
COPY . .
# `npm ci` compiles to dist/ (the prepare script) with the dev dependencies, which go afterwards.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund && npm cache clean --force
ENV NODE_ENV=production
USER node
ENTRYPOINT ["node", "bin/vigil.js"]
CMD ["--help"]
