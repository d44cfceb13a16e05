#!/usr/bin/env bash
# The stack's databases: one database and one owner role each for Airflow, the hub's catalog and
# the key vault, and a read-only role on the catalog for a second engine (Trino, DuckDB).
#
# The postgres image runs this once, on the first start of an empty data volume
# (/docker-entrypoint-initdb.d); tests/deploy runs it against a throwaway cluster and checks
# that the vault's role cannot reach the catalog and the other way round. Passwords come from
# the environment (.env), never from this file.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?}" "${HUB_DB_PASSWORD:?}" "${VAULT_DB_PASSWORD:?}"
: "${HUB_READER_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" \
    -v hub_password="$HUB_DB_PASSWORD" \
    -v vault_password="$VAULT_DB_PASSWORD" \
    -v reader_password="$HUB_READER_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE ROLE hub LOGIN PASSWORD :'hub_password';
CREATE ROLE vault LOGIN PASSWORD :'vault_password';
CREATE ROLE hub_reader LOGIN PASSWORD :'reader_password';

CREATE DATABASE airflow OWNER airflow;
CREATE DATABASE hub OWNER hub;
CREATE DATABASE vault OWNER vault;

-- Only a database's owner may connect to it: the vault's role never reaches the catalog, the
-- catalog's never reaches the vault, and neither reaches Airflow's.
REVOKE ALL ON DATABASE airflow FROM PUBLIC;
REVOKE ALL ON DATABASE hub FROM PUBLIC;
REVOKE ALL ON DATABASE vault FROM PUBLIC;

-- The catalog is readable, not writable, by hub_reader (the Iceberg JDBC catalog of a second
-- engine): SELECT on every table the hub's migrations create.
GRANT CONNECT ON DATABASE hub TO hub_reader;
\connect hub
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO hub_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE hub IN SCHEMA public GRANT SELECT ON TABLES TO hub_reader;
SQL
