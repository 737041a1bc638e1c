# Build: lint, unit-test and bundle the command into one file.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# src/deploy/ checks the manifests (it needs kubectl and ../shared, neither of which is in this
# context) and src/observe/monitoring.test.ts runs promtool (not in this image); `npm test` runs
# both instead; everything else of the unit project runs here.
RUN npm run lint \
 && npm run test:unit -- --exclude 'src/deploy/**' --exclude 'src/observe/monitoring.test.ts' \
 && npm run bundle

# Run: the bundle alone on distroless Node, as its nonroot user. Node is PID 1 and gets SIGTERM
# itself; the command shuts down gracefully on the first one.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
COPY --from=build /src/dist/bundle/chaos-monkey.mjs /app/chaos-monkey.mjs
# Numeric (distroless's nonroot is 65532), so the kubelet can verify runAsNonRoot by itself.
USER 65532:65532
# A young generation of 2 MiB semi-spaces instead of V8's default 16 MiB: the monkey's garbage is
# short-lived and small, and the default's headroom alone is ~30 MiB of RSS. (npm run bench runs
# the bundle with this same line.)
ENV NODE_OPTIONS=--max-semi-space-size=2
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "/app/chaos-monkey.mjs"]
CMD ["run"]
