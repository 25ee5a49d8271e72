#!/usr/bin/env bash
# Builds out/proxyfs_<version>_<arch>.deb with dpkg-deb: the daemon as `make build` compiles it (NativeAOT: one
# native executable, no .NET runtime needed) in /usr/lib/proxyfs/proxyfs, /usr/bin/proxyfs and the mount helpers
# /sbin/mount.proxyfs and /sbin/mount.fuse.proxyfs as links to it, the proxyfs@.service template, a sample
# /etc/proxyfs/proxyfs.yaml (a conffile) and the manual pages.
# Usage: packaging/build-deb.sh [output-dir]      (run from anywhere)
# Progress and errors go to stderr; stdout is only the path of the .deb, for scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-out}
CONFIG=${CONFIG:-Release}
DOTNET=${DOTNET:-dotnet}
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
ARCH=$(dpkg --print-architecture)
case "$ARCH" in
  amd64) RID=linux-x64 ;;
  arm64) RID=linux-arm64 ;;
  *) echo "build-deb: no .NET runtime identifier for architecture $ARCH" >&2; exit 1 ;;
esac
[ -n "$VERSION" ] || { echo "build-deb: no <Version> in Directory.Build.props" >&2; exit 1; }

STAGE="$OUT/package/root"
# The Makefile's NativeAOT output directory: `make build` and this script publish the same way into the same place
# (they also share obj/), so the package holds the executable `make build` leaves at bin/proxyfs and `make test` tests.
PUBLISH=out/publish-aot
rm -rf "$STAGE" "$OUT/package/publish"
mkdir -p "$STAGE/DEBIAN" "$STAGE/usr/lib/proxyfs" "$STAGE/usr/bin" "$STAGE/sbin" "$STAGE/lib/systemd/system" \
  "$STAGE/etc/proxyfs" "$STAGE/usr/share/man/man1" "$STAGE/usr/share/man/man5" "$STAGE/usr/share/doc/proxyfs"

# NativeAOT, as bin/proxyfs: a freshly started daemon runs compiled code from its first request (no JIT), and needs
# no .NET runtime. The flags are the Makefile's (AOT=1): other flags would make the two builds redo each other's obj/.
echo "build-deb: publishing proxyfs $VERSION for $RID (NativeAOT)" >&2
"$DOTNET" publish src/ProxyFs.Host/ProxyFs.Host.csproj -c "$CONFIG" -nologo -o "$PUBLISH" -r "$RID" \
  -p:PublishAot=true -p:PublishReadyToRun=false -clp:ErrorsOnly >&2
# The executable alone: its symbols (proxyfs.dbg) stay in the build output.
install -m 0755 "$PUBLISH/proxyfs" "$STAGE/usr/lib/proxyfs/proxyfs"
# Its dependencies (packaging/debian/control.in): ldd lists only libc and libm (libc6); the runtime loads OpenSSL
# (libssl3) when it first needs cryptography (an s3:// store's request signatures, HTTPS); globalization is invariant,
# so no libicu. fuse3 brings fusermount3 for mounts by other users than root.
if ldd "$STAGE/usr/lib/proxyfs/proxyfs" | grep -q 'not found'; then
  echo "build-deb: the executable needs libraries this machine lacks:" >&2
  ldd "$STAGE/usr/lib/proxyfs/proxyfs" | grep 'not found' >&2
  exit 1
fi

ln -s ../lib/proxyfs/proxyfs "$STAGE/usr/bin/proxyfs"
# mount(8) runs /sbin/mount.<type>: "-t proxyfs" and "-t fuse.proxyfs" (the type fstab lines use).
ln -s /usr/lib/proxyfs/proxyfs "$STAGE/sbin/mount.proxyfs"
ln -s /usr/lib/proxyfs/proxyfs "$STAGE/sbin/mount.fuse.proxyfs"

install -m 0644 systemd/proxyfs@.service "$STAGE/lib/systemd/system/proxyfs@.service"
install -m 0644 systemd/proxyfs.service "$STAGE/lib/systemd/system/proxyfs.service"
install -m 0644 packaging/proxyfs.yaml "$STAGE/etc/proxyfs/proxyfs.yaml"
gzip -9n -c packaging/man/proxyfs.1 > "$STAGE/usr/share/man/man1/proxyfs.1.gz"
gzip -9n -c packaging/man/proxyfs.yaml.5 > "$STAGE/usr/share/man/man5/proxyfs.yaml.5.gz"
ln -s proxyfs.1.gz "$STAGE/usr/share/man/man1/mount.proxyfs.1.gz"
install -m 0644 packaging/debian/copyright "$STAGE/usr/share/doc/proxyfs/copyright"
install -m 0644 docs/CONFIGURATION.md docs/CLI.md "$STAGE/usr/share/doc/proxyfs/"

install -m 0644 packaging/debian/conffiles "$STAGE/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/postrm "$STAGE/DEBIAN/"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" packaging/debian/control.in > "$STAGE/DEBIAN/control"

# Directories 0755 and files readable whatever the umask; owned by root in the archive.
find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -type f ! -perm -u+x -exec chmod 0644 {} +
chmod 0755 "$STAGE/usr/lib/proxyfs/proxyfs"

DEB="$OUT/proxyfs_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$DEB" >/dev/null
echo "build-deb: built $DEB ($(du -h "$DEB" | cut -f1))" >&2
echo "$DEB"
