# FlashCompile on Debian 12: the README's set-up, then the demo.
#   docker build -t flashcompile .        (or podman build)
#   docker run --rm flashcompile                            # the demo
#   docker run --rm flashcompile bash scripts/test.sh       # all the tests
FROM debian:12

ENV DEBIAN_FRONTEND=noninteractive
# The set-up scripts install everything else (apt: MLIR/LLVM 22, build tools;
# pip: the package's requirements) into a virtual environment of the
# project's own, as Debian's python3 is externally managed (PEP 668).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=* python3=3.11.* \
       python3-venv=3.11.* python3-dev=3.11.* \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /flashcompile
COPY . .
# The README's demo command sets up and builds (scripts/setup.sh) and runs
# the demo once, so the image starts with everything built.
RUN bash scripts/demo.sh \
    && rm -rf /var/lib/apt/lists/*

CMD ["bash", "scripts/demo.sh"]
