# podmortem container image.
#
# build:   Debian 12 with the same packages and CMake flags as `make build` (tests off), through
#          scripts/image-build.sh, which `make test` also runs (target test-image) so the build
#          stage is tested on machines without a container engine.
# runtime: FROM scratch: the binary, the shared libraries ldd lists for it
#          (scripts/runtime-libs.txt, checked against ldd by a test), and a passwd entry for the
#          unprivileged user 65532. No shell, no package manager.
#
# The JSON decoders are built for x86-64-v3 (AVX2): the image runs on x86-64 CPUs from 2013 on.

FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN apt-get update \
 && scripts/image-build.sh /build /rootfs \
 && rm -rf /var/lib/apt/lists/*

FROM scratch AS runtime
COPY --from=build /rootfs/ /
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/podmortem"]
CMD ["serve", "--config", "/etc/podmortem/config.yaml"]
