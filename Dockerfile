# gmsim's image, for the Kubernetes Job in deploy/kubernetes/. Two stages: build the
# Debian package, then install it on a slim Debian 12 (apt resolves its Depends).
FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      cmake ninja-build g++ libboost1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev \
      nlohmann-json3-dev libssl-dev dpkg-dev file ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGMSIM_BUILD_TESTS=OFF \
 && cmake --build build && cd build && cpack -G DEB

FROM debian:12-slim
COPY --from=build /src/build/gmsim_*.deb /tmp/
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      /tmp/gmsim_*.deb ca-certificates && rm -rf /var/lib/apt/lists/* /tmp/gmsim_*.deb
USER 65534:65534
ENTRYPOINT ["gmsim"]
CMD ["--help"]
