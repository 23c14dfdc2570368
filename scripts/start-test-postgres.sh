#!/usr/bin/env bash
# Makes a local PostgreSQL ready for the tests on Debian 12 and prints ONE line on stdout:
#   PROXMOX_TEST_DATABASE_URL=postgres://proxmox_mcp_test:<password>@127.0.0.1:<port>/proxmox_mcp_test
# Everything else goes to stderr, so callers can `eval`/parse stdout.
#
# Idempotent: installs Debian's `postgresql` package only when missing, creates a cluster only when there is
# none, starts it when it is down (there is no systemd here: nothing starts PostgreSQL at boot), and creates or
# updates the role and database. Runs as root, or as a user with passwordless sudo (`sudo -n`); never reads stdin.
#
# The role `proxmox_mcp_test` is a test-only, non-superuser role with CREATEDB (the tests create and drop one
# database per suite). Its password is fixed so that every run, and every process on the machine, gets the same
# URL; the server listens on loopback only. Override with PROXMOX_TEST_PG_PASSWORD (URL-safe characters only).
#
# Environment: PROXMOX_TEST_PG_PORT (port for a NEW cluster; default 5432), PROXMOX_TEST_PG_PASSWORD.
set -euo pipefail

# stdout is reserved for the result line; every other command writes to stderr.
exec 3>&1 1>&2

ROLE=proxmox_mcp_test
DATABASE=proxmox_mcp_test
PASSWORD="${PROXMOX_TEST_PG_PASSWORD:-proxmox_mcp_test_pw}"
NEW_CLUSTER_PORT="${PROXMOX_TEST_PG_PORT:-5432}"

say() { printf '[start-test-postgres] %s\n' "$*" >&2; }
die() {
  printf '[start-test-postgres] ERROR: %s\n' "$*" >&2
  exit 1
}

[[ "$PASSWORD" =~ ^[A-Za-z0-9._~-]+$ ]] ||
  die "PROXMOX_TEST_PG_PASSWORD may only hold A-Z a-z 0-9 . _ ~ - (it goes into a URL unescaped)"
[[ "$NEW_CLUSTER_PORT" =~ ^[0-9]+$ ]] || die "PROXMOX_TEST_PG_PORT must be a port number, got '$NEW_CLUSTER_PORT'"

# as_root CMD...: run CMD as root (directly, or through passwordless sudo).
# as_postgres CMD...: run CMD as the postgres OS user (peer authentication on the Unix socket).
if [[ $(id -u) -eq 0 ]]; then
  as_root() { "$@"; }
  as_postgres() { runuser -u postgres -- "$@"; }
else
  command -v sudo >/dev/null || die "not root and sudo is not installed: run this script as root"
  sudo -n true 2>/dev/null || die "not root and 'sudo -n' needs a password: run this script as root"
  as_root() { sudo -n "$@"; }
  as_postgres() { sudo -n -u postgres "$@"; }
fi

# --- The package ---------------------------------------------------------------------------------------------
if ! dpkg -s postgresql >/dev/null 2>&1 || ! command -v pg_lsclusters >/dev/null; then
  command -v apt-get >/dev/null || die "the postgresql package is missing and apt-get is not available"
  say "installing Debian's postgresql package"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql </dev/null ||
    die "could not install the postgresql package"
fi

# --- The cluster ---------------------------------------------------------------------------------------------
# pg_lsclusters -h: "version cluster port status owner datadir logfile". Prefer a cluster on the wanted port.
pick_cluster() {
  pg_lsclusters -h | awk -v port="$NEW_CLUSTER_PORT" '
    $3 == port && wanted == "" { wanted = $1 " " $2 " " $3 }
    NR == 1 { first = $1 " " $2 " " $3 }
    END { if (wanted != "") print wanted; else if (first != "") print first }'
}
cluster="$(pick_cluster)"
if [[ -z "$cluster" ]]; then
  version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -n | tail -1)"
  [[ -n "$version" ]] || die "no PostgreSQL server version found under /usr/lib/postgresql"
  say "creating cluster $version/main on port $NEW_CLUSTER_PORT"
  as_root pg_createcluster "$version" main --port "$NEW_CLUSTER_PORT" </dev/null ||
    die "pg_createcluster $version main failed"
  cluster="$(pick_cluster)"
  [[ -n "$cluster" ]] || die "pg_createcluster succeeded but pg_lsclusters lists no cluster"
fi
read -r version name port <<<"$cluster"

status="$(pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }')"
if [[ "$status" != online* ]]; then
  say "starting cluster $version/$name on port $port"
  # fd 3 is our stdout (often a `$(...)` pipe): the daemon must not inherit it, or the caller never sees EOF
  as_root pg_ctlcluster "$version" "$name" start </dev/null 3>&- ||
    die "pg_ctlcluster $version $name start failed; see /var/log/postgresql/postgresql-$version-$name.log"
fi

# Wait until it accepts TCP connections on loopback (start returns once the postmaster is up, but be sure).
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" ||
  die "PostgreSQL $version/$name does not accept connections on 127.0.0.1:$port; check its listen_addresses and log"
say "PostgreSQL $version/$name is up on 127.0.0.1:$port"

# --- Role and database ---------------------------------------------------------------------------------------
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@" </dev/null; }
# The password travels as a psql variable (:'pw' quotes it); psql expands variables only in SQL read from stdin.
set_role() { printf '%s ROLE %s WITH LOGIN CREATEDB PASSWORD :%s;\n' "$1" "$ROLE" "'pw'" |
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres -v pw="$PASSWORD"; }

role_exists="$(psql_admin -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")"
if [[ "$role_exists" == 1 ]]; then
  # Re-set the password each run so a changed PROXMOX_TEST_PG_PASSWORD takes effect.
  set_role ALTER ||
    die "could not update role $ROLE"
else
  say "creating role $ROLE"
  set_role CREATE ||
    die "could not create role $ROLE"
fi

db_exists="$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")"
if [[ "$db_exists" != 1 ]]; then
  say "creating database $DATABASE"
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE" || die "could not create database $DATABASE"
fi

URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
# The role must be able to log in over TCP with its password (pg_hba.conf: scram-sha-256 on 127.0.0.1 by default).
PGPASSWORD="$PASSWORD" psql -X -q -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DATABASE" -tA -c 'SELECT 1' </dev/null >/dev/null ||
  die "role $ROLE cannot log in with its password on 127.0.0.1:$port; check pg_hba.conf of cluster $version/$name"

printf 'PROXMOX_TEST_DATABASE_URL=%s\n' "$URL" >&3
