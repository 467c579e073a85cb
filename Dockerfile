# Tickstream image: tickstream-edge, tickstream-ingest and tickstream-watch, plus the bundled capture
# for replay mode. Build with the source revision, so --version and tickstream_build_info name it:
#   docker build --build-arg TICKSTREAM_REVISION=$(git rev-parse --short=12 HEAD) -t tickstream:local .
#
#   docker build -t tickstream:local .
#   docker run --rm tickstream:local tickstream-edge --help
#   docker build -t <registry>/tickstream:<version> . && docker push <registry>/tickstream:<version>
#     (for the Helm chart: image.repository=<registry>/tickstream, image.tag=<version>)
#
# Two stages on Debian 12 (bookworm), the distribution the project builds and tests on: the build
# stage has the -dev packages (the build half of scripts/install-deps), the runtime stage only the
# shared libraries the two binaries link (tests/deploy/check-dockerfile compares this list with
# what `ldd` says of the binaries built here, both ways: nothing missing, nothing unused) and runs
# as an unprivileged user.

FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
# Boost 1.81 without recommends: the recommends pull the 1.74 packages, which conflict with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libhiredis-dev \
      libboost1.81-dev libboost-system1.81-dev \
      rapidjson-dev prometheus-cpp-dev catch2 libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Sources only (see .dockerignore): a change to docs or deploy files does not rebuild the binaries.
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY common/ common/
COPY ingest/ ingest/
COPY edge/ edge/
COPY bench/ bench/
# Tests are built and run by scripts/test outside the image; the image only needs the binaries.
ARG TICKSTREAM_REVISION=unknown
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTICKSTREAM_SANITIZE= \
      -DTICKSTREAM_BUILD_TESTS=OFF -DTICKSTREAM_REVISION="${TICKSTREAM_REVISION}" \
 && cmake --build /build --target tickstream-edge tickstream-ingest tickstream-watch \
 && strip /build/edge/tickstream-edge /build/ingest/tickstream-ingest /build/bench/tickstream-watch

FROM debian:bookworm-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries of both binaries; ca-certificates for the live sources' wss:// connections.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libhiredis0.14 libssl3 libprometheus-cpp-core1.0 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it (the Helm chart sets 10001 too).
RUN groupadd --system --gid 10001 tickstream \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tickstream
COPY --from=build /build/edge/tickstream-edge /build/ingest/tickstream-ingest /build/bench/tickstream-watch \
     /usr/local/bin/
# The capture that replay mode plays (docker-compose.yml and the chart's ingest.mode=replay).
COPY samples/ticks.jsonl /usr/share/tickstream/ticks.jsonl
USER 10001:10001
# 8080: edge WebSocket + HTTP (/ws, /healthz, /readyz, /metrics). 9102: ingest metrics.
EXPOSE 8080 9102
# No ENTRYPOINT: each service names its binary as the command.
CMD ["tickstream-edge", "--help"]
