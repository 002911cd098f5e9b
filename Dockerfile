# podmortem container image: built on Debian 12 with the same packages and CMake flags as
# `make build`; the runtime stage carries the binary and the shared libraries it links, and runs
# as an unprivileged user. (The deployment issue finishes this: library list checked against
# ldd, distroless-style runtime without a shell.)

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake ninja-build pkg-config \
      libboost-dev libboost-system-dev libssl-dev libcpprest-dev nlohmann-json3-dev \
      libsimdjson-dev libyaml-cpp-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPODMORTEM_BUILD_TESTS=OFF \
 && cmake --build build --target podmortem

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libyaml-cpp0.7 libsimdjson14 \
      libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/podmortem /usr/local/bin/podmortem
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/podmortem"]
CMD ["serve", "--config", "/etc/podmortem/config.yaml"]
