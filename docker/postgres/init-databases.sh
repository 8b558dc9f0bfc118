#!/usr/bin/env bash
# Creates one role and one database each for Prefect and MLflow. The postgres image runs the
# scripts in /docker-entrypoint-initdb.d once, when the data volume is empty; to re-run it,
# remove the volume: docker compose -f docker/docker-compose.yml down --volumes
set -euo pipefail

create_owned_database() {
    local database="$1" role="$2" password="$3"
    # psql variables (:"name" quotes an identifier, :'name' a literal) keep the values out of
    # the SQL text, so passwords with quotes cannot break or inject into the statements.
    psql --no-psqlrc --set ON_ERROR_STOP=1 \
        --username "${POSTGRES_USER}" --dbname postgres \
        --set database="${database}" --set role="${role}" --set password="${password}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
SQL
}

create_owned_database "${PREFECT_DB_NAME:-prefect}" "${PREFECT_DB_USER:-prefect}" "${PREFECT_DB_PASSWORD:?}"
create_owned_database "${MLFLOW_DB_NAME:-mlflow}" "${MLFLOW_DB_USER:-mlflow}" "${MLFLOW_DB_PASSWORD:?}"
