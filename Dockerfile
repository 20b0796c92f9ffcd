# llm-router container image: the sidecar and the injector webhook (same binary).
#
#   docker build -t registry.example.com/llm-router:0.1.0 .
#
# Multi-stage: the build stage installs the package into a virtual environment; the final
# stage gets that environment only (no compilers, no pip, no sources beyond the package).
# Base images are pinned by version; pin them by digest too in your registry
# (`python:3.11.13-slim-bookworm@sha256:...`) for reproducible builds.

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sidecar ./sidecar
# Bytecode is compiled here: the root filesystem is read-only at run time.
RUN python -m venv /opt/llm-router \
 && /opt/llm-router/bin/pip install --no-compile . \
 && /opt/llm-router/bin/pip uninstall --yes pip \
 && /opt/llm-router/bin/python -m compileall -q /opt/llm-router/lib

FROM python:3.11.13-slim-bookworm AS runtime
# No package manager or compiler is used here; drop the base image's pip as well.
RUN python -m pip uninstall --yes pip setuptools wheel
COPY --from=build /opt/llm-router /opt/llm-router
# The default policy, for running outside Kubernetes; in a pod the ConfigMap is mounted.
COPY policies /opt/llm-router/policies
ENV PATH=/opt/llm-router/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /opt/llm-router
# Numeric, so the kubelet can check runAsNonRoot; the injector runs the sidecar as this UID.
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["llm-router"]
CMD ["--help"]
