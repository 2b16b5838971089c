#!/bin/sh
# One PostgreSQL role per service, none of them a superuser
# (docs/security.md, "Database roles"). The postgres image runs this on the
# first start of an empty data volume (/docker-entrypoint-initdb.d); run it
# again at any time to set the passwords from .env (rotation) or to bring an
# existing database under these roles:
#   docker compose exec -T db sh /docker-entrypoint-initdb.d/10-roles.sh
#
# - the migration role (MIGRATE_DB_USER, default council_migrate) may create
#   tables in the public schema and owns them; only `python -m plumbing
#   migrate` uses it, which then grants each runtime role its own tables;
# - the runtime roles (council_bridge, council_handoff, council_rasa) may
#   connect and use the schema, nothing more until the migration grants them
#   their tables;
# - PUBLIC may neither connect nor create.
# The superuser (POSTGRES_USER) stays for backups and break-glass work only.
set -eu

: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}"
: "${MIGRATE_DB_PASSWORD:?set MIGRATE_DB_PASSWORD}" "${BRIDGE_DB_PASSWORD:?set BRIDGE_DB_PASSWORD}"
: "${HANDOFF_DB_PASSWORD:?set HANDOFF_DB_PASSWORD}" "${RASA_DB_PASSWORD:?set RASA_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v migrate_user="${MIGRATE_DB_USER:-council_migrate}" -v migrate_pw="$MIGRATE_DB_PASSWORD" \
  -v bridge_user="${BRIDGE_DB_USER:-council_bridge}" -v bridge_pw="$BRIDGE_DB_PASSWORD" \
  -v handoff_user="${HANDOFF_DB_USER:-council_handoff}" -v handoff_pw="$HANDOFF_DB_PASSWORD" \
  -v rasa_user="${RASA_DB_USER:-council_rasa}" -v rasa_pw="$RASA_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I', name)
  FROM unnest(ARRAY[:'migrate_user', :'bridge_user', :'handoff_user', :'rasa_user']) AS name
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) \gexec

SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
              name, password)
  FROM (VALUES (:'migrate_user', :'migrate_pw'), (:'bridge_user', :'bridge_pw'),
               (:'handoff_user', :'handoff_pw'), (:'rasa_user', :'rasa_pw')) AS roles(name, password) \gexec

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I, %I',
              :'db', :'migrate_user', :'bridge_user', :'handoff_user', :'rasa_user') \gexec

REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT USAGE, CREATE ON SCHEMA public TO %I', :'migrate_user') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I, %I, %I', :'bridge_user', :'handoff_user', :'rasa_user') \gexec

-- Tables an earlier release made as the superuser pass to the migration
-- role, so that it can migrate and grant them (their SERIAL sequences with
-- them).
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'migrate_user')
  FROM pg_tables
 WHERE schemaname = 'public'
   AND (tablename LIKE 'calllog\_%' OR tablename LIKE 'handoff\_%' OR tablename IN ('events', 'alembic_version')) \gexec
SQL
