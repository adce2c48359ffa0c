#!/usr/bin/env bash
# Build the Debian package with one command:  packaging/deb/build.sh [VERSION] [OUTDIR]
#
# Produces OUTDIR/ocs-appliance_VERSION_ARCH.deb (dpkg-deb, no debhelper needed).  The package
# carries a wheelhouse of the application and all its Python dependencies; postinst builds a
# private virtualenv under /usr/lib/ocs-appliance/venv from it, offline, with Debian's python3.
# ARCH is the build machine's (dependencies such as uvloop and cryptography have native wheels).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
version="${1:-$(sed -n 's/^version = "\(.*\)"/\1/p' "$top/pyproject.toml" | head -1)}"
out="$(mkdir -p "${2:-$top/dist}" && cd "${2:-$top/dist}" && pwd)"
arch="$(dpkg --print-architecture)"
pkg=ocs-appliance
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/${pkg}_${version}_${arch}"

# 1. wheelhouse, built with the same python3 the package will use (Debian's /usr/bin/python3)
py=/usr/bin/python3
"$py" -m venv "$work/buildenv"
"$work/buildenv/bin/pip" install -q --upgrade pip wheel >/dev/null
mkdir -p "$stage/usr/share/$pkg/wheels"
cache="${OCS_WHEEL_CACHE:-$top/.ci/cache/wheels}"   # dependency wheels kept between builds
mkdir -p "$cache"
"$work/buildenv/bin/pip" wheel -q --find-links "$cache" --wheel-dir "$stage/usr/share/$pkg/wheels" "$top" >/dev/null
find "$stage/usr/share/$pkg/wheels" -name '*.whl' ! -name 'ocs_appliance-*' -exec cp -n {} "$cache/" \;

# 2. files
install -D -m 0644 "$here/appliance.yaml" "$stage/etc/$pkg/appliance.yaml"
install -D -m 0644 "$here/ocs-appliance.service" "$stage/lib/systemd/system/$pkg.service"
install -D -m 0755 "$here/wrapper" "$stage/usr/bin/appliance"
install -D -m 0755 "$here/wrapper" "$stage/usr/bin/export_ipdr"
mkdir -p "$stage/usr/share/snmp/mibs"
if compgen -G "$top/mibs/*" >/dev/null; then
  find "$top/mibs" -maxdepth 1 -type f ! -name '*.md' -exec install -m 0644 {} "$stage/usr/share/snmp/mibs/" \;
fi
install -D -m 0644 "$here/copyright" "$stage/usr/share/doc/$pkg/copyright"
sed "s/@VERSION@/$version/; s/@DATE@/$(date -R)/" "$here/changelog" | gzip -9n > "$work/changelog.gz"
install -m 0644 "$work/changelog.gz" "$stage/usr/share/doc/$pkg/changelog.gz"

# 3. control files
mkdir -p "$stage/DEBIAN"
size=$(du -sk "$stage" | cut -f1)
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/; s/@SIZE@/$size/" "$here/control" > "$stage/DEBIAN/control"
install -m 0644 "$here/conffiles" "$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "$here/$script" "$stage/DEBIAN/$script"; done

dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/${pkg}_${version}_${arch}.deb" >/dev/null
echo "$out/${pkg}_${version}_${arch}.deb"
