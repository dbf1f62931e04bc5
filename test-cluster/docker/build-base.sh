#!/usr/bin/env bash
# Builds the image flotilla-base:local without a registry: a root filesystem holding this
# machine's JDK, the shared libraries its binaries and libraries need (and libstdc++ for
# RocksDB's JNI library), and a shell, imported with `docker import`.
set -euo pipefail
tag="${1:-flotilla-base:local}"
java_bin="$(readlink -f "$(command -v java)")"
jdk="$(dirname "$(dirname "$java_bin")")"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
paths=("$jdk" /bin/sh /usr/bin/env)
[ -d /etc/java-17-openjdk ] && paths+=(/etc/java-17-openjdk)
while read -r lib; do
  paths+=("$lib")
done < <( (find "$jdk" -type f \( -name '*.so' -o -perm -u+x \); readlink -f /bin/sh) \
  | xargs -r ldd 2>/dev/null | grep -o '/[^ ]*' | grep -v ':$' | sort -u)
# RocksDB's JNI library (unpacked at run time) links against these too.
for extra in /lib64/ld-linux-x86-64.so.2 /usr/lib/x86_64-linux-gnu/{libstdc++.so.6,libgcc_s.so.1,libpthread.so.0,libdl.so.2,librt.so.1,libm.so.6,libc.so.6}; do
  [ -e "$extra" ] && paths+=("$extra")
done
tar -chf - --exclude="*/src.zip" "${paths[@]}" 2>/dev/null | tar -xf - -C "$root"
mkdir -p "$root/tmp" "$root/usr/bin" "$root/etc"
chmod 1777 "$root/tmp"
ln -sf "$jdk/bin/java" "$root/usr/bin/java"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
tar -C "$root" -cf - . | docker import - "$tag" > /dev/null
echo "$tag"
