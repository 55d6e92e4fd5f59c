#!/usr/bin/env bash
# Makes an editor's client key for the desk's onion service. Run it on the EDITOR'S OWN machine, never on the server:
# the private half must stay with the editor (in Tor Browser), and only the public line goes to the server's admin.
# Usage: desk-client-key.sh NAME DESK-ONION-ADDRESS
#   NAME: the editor's desk name (letters, digits, '.', '_', '-'), used for the server's file name.
# Prints what goes where; writes nothing to disk except a private key file the editor keeps (NAME.auth_private).
set -euo pipefail
name=${1:-}
onion=${2:-}
if [ -z "$name" ] || [ -z "$onion" ]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
case $name in
  *[!A-Za-z0-9._-]*|.*) echo "NAME may hold only letters, digits, '.', '_' and '-', and not start with '.'" >&2; exit 2 ;;
esac
onion=${onion%.onion}
if ! [[ $onion =~ ^[a-z2-7]{56}$ ]]; then
  echo "DESK-ONION-ADDRESS must be a v3 onion address (56 letters a-z and digits 2-7, with or without .onion)" >&2
  exit 2
fi
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 1; }
command -v base32 >/dev/null || { echo "base32 (coreutils) is needed" >&2; exit 1; }
if [ -e "$name.auth_private" ]; then
  echo "$name.auth_private already exists; refusing to overwrite a key" >&2
  exit 1
fi

umask 077
pem=$(openssl genpkey -algorithm x25519)
# The raw 32-byte keys are the last 32 bytes of their DER encodings; Tor wants them in unpadded base32.
private=$(openssl pkey -outform DER <<<"$pem" | tail -c 32 | base32 | tr -d '=\n')
public=$(openssl pkey -pubout -outform DER <<<"$pem" | tail -c 32 | base32 | tr -d '=\n')
printf '%s:descriptor:x25519:%s\n' "$onion" "$private" > "$name.auth_private"

cat <<MSG
1. Give this ONE line to the server's admin (it is public; it lets only your key in):
   file /var/lib/tor/secureintake-desk/authorized_clients/$name.auth containing
   descriptor:x25519:$public

2. Keep $name.auth_private (owner-only). In Tor Browser, open http://$onion.onion/desk and, when it asks
   for the onion service key, paste:
   $private
   (or, with a system Tor: ClientOnionAuthDir in torrc, and $name.auth_private in that folder.)
MSG
