#!/usr/bin/env bash
# Starts SecureIntake on this machine with working defaults, for trying it out and for development:
#   - a private PostgreSQL cluster under .local/postgres (Unix socket only, stopped again on exit);
#   - a clearly labelled DEMO recipient key, made with gpg under .local/demo-editor, if no recipient
#     key is configured yet (its secret key sits on this machine: never use it for real tips);
#   - encrypted items under .local/blobs;
#   - `secureintake all` (web and worker roles): the witness form on http://127.0.0.1:5080, the editors'
#     desk on its own listener, http://127.0.0.1:5081/desk.
# Any argument is passed on to `secureintake all`, e.g. --Urls=http://127.0.0.1:8080 --Desk:Urls=http://127.0.0.1:8081.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
state=${SECUREINTAKE_STATE:-$repo/.local}
pgdata=$state/postgres/data
pgrun=$state/postgres/run
demo_home=$state/demo-editor

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# What a fresh Debian machine may lack; installed when we are root, otherwise named.
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v gpg >/dev/null || missing+=(gnupg)
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || pgbin=$(dirname "$(command -v initdb)")

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  pguser=postgres
  id "$pguser" >/dev/null 2>&1 || pguser=nobody
  as_pg=(runuser -u "$pguser" --)
fi

# Owner-only: the socket accepts any local connection that can reach it (trust), so only we may reach it.
mkdir -p "$state/postgres" "$pgrun"
chmod 700 "$state/postgres" "$pgrun"
if [ ${#as_pg[@]} -gt 0 ]; then chown "$pguser" "$state/postgres" "$pgrun"; fi
if [ ${#as_pg[@]} -gt 0 ] && ! "${as_pg[@]}" test -x "$state/postgres"; then
  echo "$state/postgres must be reachable by the $pguser user (every directory above it needs o+x)" >&2
  exit 1
fi
if [ ! -f "$pgdata/PG_VERSION" ]; then
  say "creating a PostgreSQL cluster in $pgdata"
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U postgres --auth=peer --auth-local=trust --encoding=UTF8 --no-locale >/dev/null
fi

if ! "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  say "starting PostgreSQL (socket in $pgrun)"
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$state/postgres/server.log" -w \
    -o "-c listen_addresses='' -k $pgrun" start >/dev/null
  trap '"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true' EXIT
fi

if [ "$(psql -h "$pgrun" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'secureintake'")" != 1 ]; then
  psql -h "$pgrun" -U postgres -d postgres -qc "CREATE DATABASE secureintake" >/dev/null
fi
export SECUREINTAKE_Database__ConnectionString="Host=$pgrun;Username=postgres;Database=secureintake"
mkdir -p "$state/blobs" && chmod 700 "$state/blobs"
# The codename pepper is a secret kept outside the database; made once, and every codename depends on it.
if [ ! -s "$state/codename-pepper" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 > "$state/codename-pepper")
fi
# Passed as a path: the secret stays in its owner-only file, not in the environment every child inherits.
export SECUREINTAKE_Codenames__PepperFile="$state/codename-pepper"
export SECUREINTAKE_Storage__BlobDirectory="$state/blobs"

say "building SecureIntake"
dotnet build "$repo/src/SecureIntake.Server" -c Release -o "$state/bin" --nologo -v q -clp:ErrorsOnly
secureintake=("$state/bin/secureintake")

if "${secureintake[@]}" keys list | grep -q '^no recipient keys yet'; then
  say "no recipient key configured: creating a DEMO key (not for real tips)"
  mkdir -p "$demo_home" && chmod 700 "$demo_home"
  uid="SecureIntake DEMO recipient - NOT FOR REAL TIPS <demo@secureintake.invalid>"
  gpg --homedir "$demo_home" --batch --passphrase '' --quick-gen-key "$uid" ed25519 cert,sign never 2>/dev/null
  fpr=$(gpg --homedir "$demo_home" --with-colons --list-keys "$uid" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }')
  gpg --homedir "$demo_home" --batch --passphrase '' --quick-add-key "$fpr" cv25519 encr never 2>/dev/null
  gpg --homedir "$demo_home" --armor --export "$fpr" > "$demo_home/demo-recipient.asc"
  "${secureintake[@]}" keys add "$demo_home/demo-recipient.asc"
  cat <<MSG
The DEMO key's secret half is in $demo_home (no passphrase): whatever is submitted
to this instance can be read with it, e.g. gpg --homedir $demo_home --decrypt ITEM.gpg
Add real editors' keys with: $state/bin/secureintake keys add EDITOR.asc
and remove the demo key with: $state/bin/secureintake keys remove $fpr
MSG
fi

# Where the two listeners are, for the messages below; the service reads the same settings.
witness_urls=${SECUREINTAKE_Urls:-http://127.0.0.1:5080}
desk_urls=${SECUREINTAKE_Desk__Urls:-http://127.0.0.1:5081}
for arg in "$@"; do
  case $arg in
    --Urls=*) witness_urls=${arg#*=} ;;
    --Desk:Urls=*) desk_urls=${arg#*=} ;;
  esac
done

if ! "${secureintake[@]}" editors list 2>/dev/null | grep -qv '^no editors yet'; then
  echo "The editors' desk is at /desk on $desk_urls; add its first admin with: $state/bin/secureintake editors add NAME --admin --key THEIR-KEY.asc"
fi

say "starting secureintake (web and worker) - Ctrl+C stops it and its PostgreSQL"
say "witness form on $witness_urls; editors' desk at /desk on $desk_urls"
"${secureintake[@]}" all "$@"
