# Build: lint, unit-test and bundle the command into one file.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# test/deploy/ checks the manifests (it needs kubectl and ../shared, neither of which is in this
# context) and test/monitoring/monitoring.test.ts runs promtool (not in this image); `npm test`
# runs both instead; everything else of the unit project runs here.
RUN npm run lint \
 && npm run test:unit -- --exclude 'test/deploy/**' --exclude 'test/monitoring/monitoring.test.ts' \
 && npm run bundle

# Run: the bundle alone on distroless, as its nonroot user, with the build stage's own Node
# binary (24.22.3, the version scripts/ensure-node.sh runs the tests on): distroless's nodejs24
# image follows its own 24.x, so the image would not run the Node the tests and the benchmark
# measured. distroless/cc carries the C and C++ runtime libraries that binary links against.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/node /nodejs/bin/node
COPY --from=build /src/dist/bundle/chaos-monkey.mjs /app/chaos-monkey.mjs
# Numeric (distroless's nonroot is 65532), so the kubelet can verify runAsNonRoot by itself.
USER 65532:65532
# V8 sized for a small, long-lived process (npm run bench runs the bundle with this same line):
# - 2 MiB semi-spaces instead of 16 MiB: the monkey's garbage is short-lived and small, and the
#   default young generation's headroom alone is ~30 MiB of RSS;
# - one V8 platform worker thread instead of one per core: fewer thread stacks and GC arenas;
# - an old generation capped at 256 MiB (the ~92 MiB heap floor measured at 50,000 pods fits it
#   well): outside a memory-limited container V8 sizes it from the host's memory, gigabytes, and
#   lets garbage pile up that long before a full collection.
# Node is PID 1 and gets SIGTERM itself; the command shuts down gracefully on the first one.
ENV NODE_OPTIONS="--max-semi-space-size=2 --v8-pool-size=1 --max-old-space-size=256"
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "/app/chaos-monkey.mjs"]
CMD ["run"]
