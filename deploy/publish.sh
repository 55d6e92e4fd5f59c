#!/usr/bin/env bash
# Builds a release that runs without the .NET SDK:
#   - secureintake, self-contained for linux-x64 (the server: web and worker roles, and the admin CLI);
#   - secureintake-desk, self-contained for linux-x64, win-x64 and osx-arm64 (for the editors' own machines);
# each as a single executable in its own tarball, with SHA256SUMS over the tarballs.
# Usage: deploy/publish.sh [--out DIR] [--version VERSION] [--desk-rids "RID ..."]
#   DIR defaults to ./release; VERSION to `git describe` of this checkout; the desk tool's platforms to all three
#   ("" for none).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/release
version=
desk_rids="linux-x64 win-x64 osx-arm64"
while (($#)); do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --desk-rids) desk_rids=${2?--desk-rids needs a list}; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$version" ]; then
  version=$(git -C "$repo" describe --always --dirty 2>/dev/null || date -u +%Y%m%d)
fi
case $version in
  *[!A-Za-z0-9._-]*) echo "the version may hold only letters, digits, '.', '_' and '-'" >&2; exit 2 ;;
esac

release=$out/secureintake-$version
if [ -e "$release" ]; then
  echo "$release already exists; remove it or choose another --version" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$release"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# publish PROJECT RID NAME: one self-contained executable (plus appsettings.json for the server) into a tarball.
publish() {
  local project=$1 rid=$2 name=$3
  local dir=$work/$name-$version-$rid
  echo "==> $name for $rid"
  dotnet publish "$repo/src/$project" -c Release -r "$rid" --self-contained true \
    -p:PublishSingleFile=true -p:DebugType=none \
    -p:InformationalVersion="$version" \
    -o "$dir" --nologo -v q -clp:ErrorsOnly
  if [ "$name" = secureintake ]; then
    # The server's admin installs from the tarball alone: this guide, the units, Tor's and PostgreSQL's files.
    mkdir -p "$dir/deploy"
    cp -R "$repo/deploy/README.md" "$repo/deploy/appsettings.example.json" "$repo/deploy/postgres" "$repo/deploy/systemd" \
      "$repo/deploy/tor" "$repo/deploy/clearnet" "$dir/deploy/"
    cp -R "$repo/README.md" "$repo/docs" "$dir/"
  else
    # Editors make their desk client key on their own machines (deploy/README.md, "Letting an editor into the desk").
    cp "$repo/deploy/tor/desk-client-key.sh" "$dir/"
  fi
  # Deterministic tarballs: the same build gives the same checksum, so anyone can compare two copies.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work" -cf - "$name-$version-$rid" \
    | gzip -n > "$release/$name-$version-$rid.tar.gz"
}

publish SecureIntake.Server linux-x64 secureintake
for rid in $desk_rids; do
  case $rid in
    linux-x64|win-x64|osx-arm64) publish SecureIntake.Desk "$rid" secureintake-desk ;;
    *) echo "the desk tool is built for linux-x64, win-x64 and osx-arm64, not $rid" >&2; exit 2 ;;
  esac
done
(cd "$release" && sha256sum -- *.tar.gz > SHA256SUMS)
echo "release in $release:"
cat "$release/SHA256SUMS"
