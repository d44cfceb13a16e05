# syntax=docker/dockerfile:1
# The hub image: Airflow 3 with the hub's code, DAGs and feed files, installed from uv.lock.
# One image for every service that runs the hub's code (init, the Airflow components, the web
# app); docker-compose.yml says which command each runs. Secrets are never baked in: every one
# comes from the environment at run time (see .env.example).
#
# Pin the base by digest when the registry is reachable:
#   docker buildx imagetools inspect python:3.11.13-slim-bookworm  ->  PYTHON_IMAGE=...@sha256:...
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
ENV UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/hub/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /opt/hub
# The locked dependencies first (a layer that survives code changes), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --compile-bytecode --no-install-project
COPY hub ./hub
COPY catalog ./catalog
COPY connectors ./connectors
COPY privacy ./privacy
COPY quality ./quality
COPY products ./products
COPY simulators ./simulators
COPY dags ./dags
COPY feeds ./feeds
COPY policy ./policy
RUN uv sync --locked --no-dev --compile-bytecode

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="city-data-hub" \
      org.opencontainers.image.description="City Data Hub: Airflow 3 feeds into an Iceberg lake on S3" \
      org.opencontainers.image.licenses="Apache-2.0"
# The uid Airflow's own image uses; group 0 so an orchestrator that picks another uid
# (OpenShift) can still write the folders below.
RUN groupadd --system --gid 50000 hub \
    && useradd --system --uid 50000 --gid hub --groups root --home-dir /opt/hub \
        --no-create-home --shell /usr/sbin/nologin hub
# pg_dump/pg_restore for `hub backup` of the catalog and the vault (bookworm's client is 15,
# the server's major version)
# the major is pinned; bookworm-security replaces any exact version, so none is named
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/hub /opt/hub
# Code stays root's (read-only to the services); logs, auth and scratch are the hub user's
# (uid 50000, numeric so Kubernetes can check runAsNonRoot).
RUN mkdir -p /opt/hub/airflow/logs /opt/hub/airflow/auth /opt/hub/var \
    && chown -R hub:root /opt/hub/airflow /opt/hub/var \
    && chmod -R g=u /opt/hub/airflow /opt/hub/var
ENV PATH=/opt/hub/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AIRFLOW_HOME=/opt/hub/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/hub/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    HUB_FEEDS_DIR=/opt/hub/feeds \
    HUB_HOME=/opt/hub/var
WORKDIR /opt/hub
USER 50000
# 8000 the web app, 8080 the Airflow api-server, 8793 a worker's log server, 8974 the
# scheduler's health check
EXPOSE 8000 8080 8793 8974
CMD ["hub", "--help"]
