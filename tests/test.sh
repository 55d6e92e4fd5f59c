#!/usr/bin/env bash
# Runs every test against the real parts (PostgreSQL, GnuPG, Sequoia, the argon2 reference tool, headless Chromium,
# Dovecot, aiosmtpd, openssl, Tor, systemd-analyze, shellcheck, nginx). Installs what is missing from Debian's packages first
# (as root, or through sudo), since tests never skip a missing part.
# Extra arguments go to `dotnet test`, e.g. --filter "FullyQualifiedName~Crypto".
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
command -v gpg >/dev/null || need+=(gnupg)
command -v gpgconf >/dev/null || need+=(gpgconf)
command -v sq >/dev/null || need+=(sq)
command -v argon2 >/dev/null || need+=(argon2)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
ldconfig -p 2>/dev/null | grep -q 'libgcrypt.so.20 ' || need+=(libgcrypt20)
# Dovecot is in /usr/sbin (not on every PATH); the imap binary is what dovecot-imapd adds to dovecot-core.
[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
# The system python3's module, not whatever python3 comes first on PATH: SmtpSink runs /usr/bin/python3.
[ -d /usr/lib/python3/dist-packages/aiosmtpd ] || need+=(python3-aiosmtpd)
command -v openssl >/dev/null || need+=(openssl)
# deploy/ is checked with the tools an admin's server runs: Tor, systemd's unit parser, shellcheck for its scripts,
# nginx for the clearnet example (the package's service is stopped again below: the test runs its own nginx -t).
[ -x /usr/sbin/tor ] || command -v tor >/dev/null || need+=(tor)
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v unshare >/dev/null || need+=(util-linux)
# The desk tool's scrub hands the types it does not clean itself to mat2 when it is installed.
command -v mat2 >/dev/null || need+=(mat2)
if ((${#need[@]})); then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "==> installing ${need[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The package starts nginx on ports 80 and 443 (through its init script where systemd is not PID 1); the tests need
  # only the binary, and a test machine should not serve a default site. Only the nginx installed just now is stopped.
  if [[ " ${need[*]} " == *" nginx "* ]] && [ -s /run/nginx.pid ]; then
    "${sudo[@]}" /usr/sbin/nginx -s quit || true
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test SecureIntake.sln "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line over all test assemblies.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Passed:") p += $(i+1); if ($i == "Failed:") f += $(i+1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' FS='[ ,]+' "$log"
exit "$status"
