#!/bin/sh
# Temporal's databases and schema on PostgreSQL, with Temporal's own SQL tool (temporalio/admin-tools).
# Every step is idempotent in Server 1.32.0's temporal-sql-tool (create-database ignores an existing
# database, setup-schema -v 0.0 creates its tables IF NOT EXISTS, update-schema applies only what is
# missing), so this runs on every `docker compose up` and is how a server upgrade gets its schema.
# Connection from the environment: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD.
set -eu
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  temporal-sql-tool --db "$db" create-database
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
echo "leafe: Temporal schema ready in databases temporal and temporal_visibility"
