#!/usr/bin/env bash
# Build dist/isthmus_<version>_amd64.deb from the PyInstaller bundle with dpkg-deb only.
#   packaging/build_deb.sh [BUNDLE_DIR] [OUT_DIR]      (defaults: dist/isthmus dist)
# Layout: /opt/isthmus (the bundle), /usr/bin/isthmus -> /opt/isthmus/isthmus, a .desktop entry,
# the icon in the hicolor theme. Depends: the system libraries the bundle does not carry (libGL,
# libEGL, the xcb libraries of Qt's xcb platform plugin, fontconfig, xkbcommon, dbus).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bundle="$(realpath "${1:-$root/dist/isthmus}")"
out="$(realpath -m "${2:-$root/dist}")"
[ -x "$bundle/isthmus" ] || { echo "build_deb.sh: no bundle at $bundle (run pyinstaller packaging/isthmus.spec first)" >&2; exit 2; }
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/app/__init__.py")"
[ -n "$version" ] || { echo "build_deb.sh: no __version__ in app/__init__.py" >&2; exit 2; }

DEPENDS="libc6 (>= 2.31), libegl1, libgl1, libglx0, libglvnd0, libfontconfig1, libfreetype6, libxkbcommon0,
 libxkbcommon-x11-0, libdbus-1-3, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-glx0, libxcb-icccm4,
 libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render0, libxcb-render-util0, libxcb-shape0, libxcb-shm0,
 libxcb-sync1, libxcb-util1, libxcb-xfixes0, libxcb-xinerama0, libxcb-xkb1, libdrm2, fonts-dejavu-core"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/isthmus_${version}_amd64"
mkdir -p "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" "$pkg/usr/share/doc/isthmus"
cp -a "$bundle" "$pkg/opt/isthmus"
ln -s /opt/isthmus/isthmus "$pkg/usr/bin/isthmus"
install -m 0644 "$here/isthmus.desktop" "$pkg/usr/share/applications/isthmus.desktop"
for n in 48 128 256; do
  install -D -m 0644 "$root/resources/icons/isthmus-$n.png" "$pkg/usr/share/icons/hicolor/${n}x${n}/apps/isthmus.png"
done
install -D -m 0644 "$root/resources/icons/isthmus.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/isthmus.svg"
cat > "$pkg/usr/share/doc/isthmus/README.Debian" <<DOC
Isthmus $version: decision support for clinicians; not a diagnosis; not a certified medical device.
Check an installation with:  isthmus --self-test
Licences of the bundled components: Help > About in the application.
DOC
installed_kb="$(du -sk --apparent-size "$pkg" | cut -f1)"
cat > "$pkg/DEBIAN/control" <<CTRL
Package: isthmus
Version: $version
Architecture: amd64
Maintainer: Isthmus developers <isthmus@localhost>
Installed-Size: $installed_kb
Section: science
Priority: optional
Depends: $(echo "$DEPENDS" | tr -s ' \n' ' ')
Description: lumbar spine imaging review workstation (decision support)
 Loads lumbar radiographs, CT and MRI (DICOM), annotates pars interarticularis
 defects, spondylolisthesis and bone-marrow edema as structured findings and
 suggests staging and management with reasons and sources. Decision support
 for clinicians; not a diagnosis; not a certified medical device.
CTRL
cat > "$pkg/DEBIAN/postinst" <<'POST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
exit 0
POST
cp "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/postrm"
sed -i 's/if \[ "\$1" = configure \]; then/if [ "$1" = remove ] || [ "$1" = purge ]; then/' "$pkg/DEBIAN/postrm"
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/isthmus_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$pkg" "$deb" >/dev/null
echo "$deb"
