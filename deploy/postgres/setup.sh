#!/usr/bin/env bash
# Prepares PostgreSQL for SecureIntake on this server. Run as root; safe to run again.
#   - a login role `secureintake` that is no superuser and cannot create roles or databases;
#   - a database `secureintake` owned by it (it creates its own schema and Hangfire's at `secureintake migrate`),
#     which no other role may connect to;
#   - peer authentication over the Unix socket only: the OS users in --os-users (by default the two service users)
#     sign in as `secureintake`, with no password anywhere; every other user is refused by this rule.
# Usage: deploy/postgres/setup.sh [--conf-dir DIR] [--host SOCKET-DIR] [--os-users "USER ..."]
#   --conf-dir  where pg_hba.conf and pg_ident.conf are (default: the newest /etc/postgresql/*/main)
#   --host      PostgreSQL's socket directory (default: /var/run/postgresql); another port than 5432 goes in PGPORT
set -euo pipefail
conf_dir=
host=/var/run/postgresql
os_users="secureintake-web secureintake-worker"
while (($#)); do
  case $1 in
    --conf-dir) conf_dir=${2:?}; shift 2 ;;
    --host) host=${2:?}; shift 2 ;;
    --os-users) os_users=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
if [ -z "$conf_dir" ]; then
  conf_dir=$(find /etc/postgresql -mindepth 2 -maxdepth 2 -type d -name main 2>/dev/null | sort -V | tail -n 1)
  [ -n "$conf_dir" ] || { echo "no /etc/postgresql/*/main: install PostgreSQL first (apt-get install postgresql)" >&2; exit 1; }
fi
for f in pg_hba.conf pg_ident.conf; do
  [ -f "$conf_dir/$f" ] || { echo "$conf_dir/$f is missing" >&2; exit 1; }
done
for user in $os_users; do
  [[ $user =~ ^[a-z_][a-z0-9_-]*$ ]] || { echo "not a user name: $user" >&2; exit 2; }
done

psql_admin() { runuser -u postgres -- psql -h "$host" -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'secureintake'")" != 1 ]; then
  psql_admin -c "CREATE ROLE secureintake LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'secureintake'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE secureintake OWNER secureintake ENCODING 'UTF8' TEMPLATE template0"
fi
psql_admin -c "REVOKE ALL ON DATABASE secureintake FROM PUBLIC"

# The map names who may be `secureintake`; lines already there are kept, so running again changes nothing.
for user in $os_users; do
  line="secureintake $user secureintake"
  grep -qxF "$line" "$conf_dir/pg_ident.conf" || printf '%s\n' "$line" >> "$conf_dir/pg_ident.conf"
done
# First in pg_hba.conf, so no later, looser line decides for this database; and no TCP line at all.
rule="local secureintake secureintake peer map=secureintake"
if ! grep -qxF "$rule" "$conf_dir/pg_hba.conf"; then
  { printf '# SecureIntake (deploy/postgres/setup.sh): its services over the Unix socket only, by OS user.\n%s\n' "$rule"
    cat "$conf_dir/pg_hba.conf"; } > "$conf_dir/pg_hba.conf.new"
  chown --reference="$conf_dir/pg_hba.conf" "$conf_dir/pg_hba.conf.new"
  chmod --reference="$conf_dir/pg_hba.conf" "$conf_dir/pg_hba.conf.new"
  mv "$conf_dir/pg_hba.conf.new" "$conf_dir/pg_hba.conf"
fi
psql_admin -c "SELECT pg_reload_conf()" >/dev/null
echo "PostgreSQL ready: database secureintake, role secureintake (no superuser), peer sign-in for: $os_users"
echo "Connection string: Host=$host;${PGPORT:+Port=$PGPORT;}Database=secureintake;Username=secureintake"
