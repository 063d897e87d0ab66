#!/bin/bash
# Phase: packages and man pages.
#  1. the man pages render without a warning (groff -ww, mandoc -Tlint, man -l);
#  2. `cmake --install` with DESTDIR puts every file where it belongs;
#  3. the Debian package builds with dpkg-buildpackage -us -uc -b from
#     packaging/debian (in a staging copy: nothing is generated in the tree),
#     with the right files, dependencies and conffiles; lintian has no error;
#  4. the RPM spec parses, passes rpmlint and builds with rpmbuild (its %files
#     must list everything `cmake --install` installs);
#  5. the issue's "done when": `apt-get install ./oci-shm-hook_*.deb`, one
#     policy line uncommented, and a plain `podman run` (no --hooks-dir) of a
#     Selenium image gets 2 GiB of /dev/shm. Then the package is purged and the
#     machine is as before;
#  6. upgrades keep the admin's edits: two .debs of two versions, an edited
#     policy.conf and a policy.d drop-in survive the upgrade, `dpkg --purge`
#     removes what the package owns and nothing else;
#  7. the same for the RPM's %config(noreplace) with `rpm -U`, in a scratch
#     root (rpm --root --nodeps).
# Env: BUILD = the build directory. Run from the top of the repository.
set -euo pipefail
TOP=$(pwd)
BUILD=$(realpath -m "${BUILD:-$TOP/build}") # absolute: hooks and phases run elsewhere
export OCI_SHM_HOOK_BIN=$BUILD/oci-shm-hook
# shellcheck source=../integration/lib.sh
source "$TOP/tests/integration/lib.sh"
need_root

# The packaging tools (CI may run on a fresh machine).
TOOLS="debhelper dpkg-dev fakeroot lintian mandoc man-db groff-base rpm rpmlint"
missing=
for p in $TOOLS; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
        echo "installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
need dpkg-buildpackage lintian mandoc groff man rpmbuild rpmspec rpmlint podman runc jq busybox

VERSION=$(sed -n 's/^project(oci-shm-hook VERSION \([0-9.]*\).*/\1/p' "$TOP/CMakeLists.txt")
expect_eq "debian/changelog version is the project's" \
        "$(dpkg-parsechangelog -l "$TOP/packaging/debian/changelog" -S Version)" "$VERSION"
expect_eq "the RPM spec's version is the project's" \
        "$(sed -n 's/^Version: *//p' "$TOP/packaging/rpm/oci-shm-hook.spec")" "$VERSION"

# ---- 1. man pages ----
echo "--- man pages"
for page in "$TOP"/packaging/man/*.[1-8]; do
        name=$(basename "$page")
        warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
        expect_eq "$name: groff -ww has no warning" "$warnings" ""
        lint=$(mandoc -Tlint "$page" 2>&1 || true)
        expect_eq "$name: mandoc -Tlint is clean" "$lint" ""
        rendered=$(MANWIDTH=80 man -l "$page" 2>"$WORK/man.err")
        expect_eq "$name: man -l prints nothing on stderr" "$(cat "$WORK/man.err")" ""
        expect_contains "$name: renders its NAME section" "$rendered" "NAME"
done
# Every option of the hook's --help is in its man page.
for opt in $("$HOOK" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -qF -- "${opt//-/\\-}" "$TOP/packaging/man/oci-shm-hook.8" ||
                fail "oci-shm-hook.8 does not document $opt"
done
pass "oci-shm-hook.8 documents every option of --help"
# Every result word the hook logs is in its man page.
for result in grown kept exempt mounted host-mounted already-host skipped-host skipped-volume failed \
        no-match skipped-sandbox; do
        grep -qF -- ".B ${result//-/\\-}" "$TOP/packaging/man/oci-shm-hook.8" ||
                fail "oci-shm-hook.8 does not document result=$result"
done
pass "oci-shm-hook.8 documents every result"
# Every example rule in oci-shm-policy(5) is valid policy.
sed -n '/^\.EX/,/^\.EE/p' "$TOP/packaging/man/oci-shm-policy.5" | grep -E '^(image=|annotation:|shm=)' |
        sed 's/\\-/-/g' >"$WORK/man-examples.conf"
if out=$("$HOOK" check --policy "$WORK/man-examples.conf" 2>&1); then
        pass "every example rule of oci-shm-policy(5) passes check ($out)"
else
        fail "oci-shm-policy(5) examples: $out"
fi

# ---- 2. cmake --install with DESTDIR ----
echo "--- cmake --install"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
# The policy is where the hook reads it, whatever the prefix (this build's is $prefix).
sysconf=/etc
DEST=$WORK/destdir
DESTDIR=$DEST cmake --install "$BUILD" >"$WORK/install.log"
(cd "$DEST" && find . -type f -printf '%m %p\n' | sort) >"$WORK/installed.txt"
echo "installed under DESTDIR (prefix $prefix):"
sed 's/^/    /' "$WORK/installed.txt"
for f in "$prefix/libexec/oci/hooks.d/oci-shm-hook 755" "$prefix/libexec/oci/hooks.d/oci-shm-runtime 755" \
        "$prefix/share/containers/oci/hooks.d/oci-shm-hook.json 644" \
        "$sysconf/oci-shm-hook/policy.conf 644" \
        "$prefix/share/man/man8/oci-shm-hook.8 644" "$prefix/share/man/man8/oci-shm-runtime.8 644" \
        "$prefix/share/man/man5/oci-shm-policy.5 644"; do
        # shellcheck disable=SC2086 # path and mode
        set -- $f
        expect_eq "DESTDIR install: $1" "$(stat -c %a "$DEST$1" 2>/dev/null || echo missing)" "$2"
done
[ -d "$DEST$sysconf/oci-shm-hook/policy.d" ] && pass "DESTDIR install: empty policy.d/" || fail "no policy.d/"
expect_eq "DESTDIR install: $prefix/sbin/oci-shm-hook is the hook" \
        "$(readlink -f "$DEST$prefix/sbin/oci-shm-hook")" "$(readlink -f "$DEST$prefix/libexec/oci/hooks.d/oci-shm-hook")"
expect_eq "nothing installed outside DESTDIR" "$(grep -c "^-- Installing: $DEST" "$WORK/install.log")" \
        "$(grep -c '^-- Installing: ' "$WORK/install.log")"
expect_eq "the installed hooks.d JSON names the installed hook" \
        "$(jq -r .hook.path "$DEST$prefix/share/containers/oci/hooks.d/oci-shm-hook.json")" \
        "$prefix/libexec/oci/hooks.d/oci-shm-hook"
expect_eq "the installed policy is the shipped one" "$(cmp -s "$TOP/config/policy.conf" "$DEST$sysconf/oci-shm-hook/policy.conf" && echo same)" same

# ---- 3. the Debian package ----
echo "--- Debian package"
STAGE=$WORK/deb
SRC=$STAGE/oci-shm-hook-$VERSION
mkdir -p "$SRC"
tar -C "$TOP" --exclude='./build*' --exclude=./.git --exclude='*/node_modules' -cf - . | tar -C "$SRC" -xf -
rm -rf "$SRC/debian"
cp -r "$TOP/packaging/debian" "$SRC/debian"
# Build the .deb of source tree $1, its log in $2; $3 names it in the result.
build_deb() {
        if (cd "$1" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$2" 2>&1; then
                pass "dpkg-buildpackage $3"
        else
                tail -40 "$2"
                fail "dpkg-buildpackage $3 failed"
                finish
        fi
}
build_deb "$SRC" "$STAGE/build.log" "-us -uc -b"
DEB=$(ls "$STAGE"/oci-shm-hook_"$VERSION"_*.deb)
contents=$(dpkg-deb -c "$DEB" | awk '{print $6}')
for f in ./usr/libexec/oci/hooks.d/oci-shm-hook ./usr/libexec/oci/hooks.d/oci-shm-runtime \
        ./usr/share/containers/oci/hooks.d/oci-shm-hook.json ./etc/oci-shm-hook/policy.conf \
        ./etc/oci-shm-hook/policy.d/ ./usr/share/man/man8/oci-shm-hook.8.gz \
        ./usr/share/man/man8/oci-shm-runtime.8.gz ./usr/share/man/man5/oci-shm-policy.5.gz \
        ./usr/share/doc/oci-shm-hook/copyright ./usr/sbin/oci-shm-hook; do
        grep -qxF "$f" <<<"$contents" && pass "the .deb has $f" || fail "the .deb lacks $f"
done
expect_eq "policy.conf is a conffile" "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles)" \
        /etc/oci-shm-hook/policy.conf
# Depends comes from ${shlibs:Depends}: every shared library the programs need has its package there.
depends=$(dpkg-deb -f "$DEB" Depends)
dpkg-deb -x "$DEB" "$STAGE/unpacked"
for lib in $(readelf -d "$STAGE"/unpacked/usr/libexec/oci/hooks.d/* | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | sort -u); do
        libpath=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x86_64/ && !found {print $NF; found = 1}')
        pkg=$(dpkg -S "$(readlink -f "$libpath")" 2>/dev/null | head -n1 | cut -d: -f1) || true
        [ -n "$pkg" ] || pkg=$(dpkg -S "$libpath" 2>/dev/null | head -n1 | cut -d: -f1) || true
        [ -n "$pkg" ] || fail "no package found for $lib ($libpath)"
        expect_contains "Depends has $pkg, for $lib" "$depends" "$pkg"
done
expect_eq "Recommends" "$(dpkg-deb -f "$DEB" Recommends)" "runc | crun"
if lintian_out=$(lintian --fail-on error "$DEB" 2>&1); then
        pass "lintian: no error${lintian_out:+ ($(grep -c '^[WI]:' <<<"$lintian_out") warnings/infos)}"
else
        fail "lintian: $lintian_out"
fi
echo "$lintian_out" | grep -v 'root privileges' || true
[ -z "$(cd "$TOP" && git status --porcelain --ignored -- debian obj-* 2>/dev/null)" ] &&
        pass "nothing generated in the source tree" || fail "the package build left files in the tree"

# ---- 4. the RPM spec ----
echo "--- RPM spec"
SPEC=$TOP/packaging/rpm/oci-shm-hook.spec
if out=$(rpmspec -P "$SPEC" 2>&1 >/dev/null) && [ -z "$out" ]; then pass "rpmspec -P parses the spec"; else fail "rpmspec: $out"; fi
for req in 'pkgconfig(yajl)' 'pkgconfig(mount)' 'pkgconfig(cmocka)' cmake gcc; do
        rpmspec -q --buildrequires "$SPEC" 2>/dev/null | grep -q -- "^$req" &&
                pass "BuildRequires $req" || fail "BuildRequires lacks $req"
done
if out=$(rpmlint "$SPEC" 2>&1); then pass "rpmlint: no error"; else fail "rpmlint: $out"; fi
# Debian's rpm lacks Fedora's cmake-rpm-macros: define %cmake & co. as Fedora does, minus
# its compiler flags; rpmbuild's unpackaged-file check then proves %files is complete.
RPMTOP=$WORK/rpm
mkdir -p "$RPMTOP/SOURCES" "$RPMTOP/src"
cp -a "$SRC" "$RPMTOP/src/oci-shm-hook-$VERSION"
rm -rf "$RPMTOP/src/oci-shm-hook-$VERSION/debian" "$RPMTOP/src/oci-shm-hook-$VERSION"/obj-*
tar -C "$RPMTOP/src" -czf "$RPMTOP/SOURCES/oci-shm-hook-$VERSION.tar.gz" "oci-shm-hook-$VERSION"
cat >"$RPMTOP/macros" <<EOF
%__cmake_builddir redhat-linux-build
%cmake cmake -S . -B %{__cmake_builddir} -DCMAKE_INSTALL_PREFIX:PATH=%{_prefix} -DCMAKE_BUILD_TYPE=RelWithDebInfo
%cmake_build cmake --build %{__cmake_builddir} -j$(nproc)
%cmake_install DESTDIR=%{buildroot} cmake --install %{__cmake_builddir}
%ctest ctest --test-dir %{__cmake_builddir} --output-on-failure
EOF
if rpmbuild --define "_topdir $RPMTOP" --load="$RPMTOP/macros" --nodeps --nocheck -bb "$SPEC" \
        >"$RPMTOP/build.log" 2>&1; then
        pass "rpmbuild -bb (every installed file is in %files)"
        RPMFILE=$(ls "$RPMTOP"/RPMS/*/oci-shm-hook-"$VERSION"-*.rpm)
        expect_eq "the RPM's %config(noreplace) file" "$(rpm -qcp "$RPMFILE" 2>/dev/null)" /etc/oci-shm-hook/policy.conf
        expect_contains "the RPM has the hook" "$(rpm -qlp "$RPMFILE" 2>/dev/null)" /usr/libexec/oci/hooks.d/oci-shm-hook
        expect_contains "the RPM has /usr/sbin/oci-shm-hook" "$(rpm -qlp "$RPMFILE" 2>/dev/null)" /usr/sbin/oci-shm-hook
else
        tail -30 "$RPMTOP/build.log"
        fail "rpmbuild failed"
fi

# ---- 5. install the .deb; Podman uses it with no --hooks-dir ----
echo "--- apt-get install ./$(basename "$DEB")"
if dpkg-query -W -f '${Status}' oci-shm-hook 2>/dev/null | grep -q installed; then
        fail "oci-shm-hook is already installed as a package on this machine; not touching it"
        finish
fi
if [ -e /etc/oci-shm-hook ] || [ -e /usr/share/containers/oci/hooks.d/oci-shm-hook.json ]; then
        fail "/etc/oci-shm-hook or the hooks.d JSON exists without the package; not overwriting it"
        finish
fi
hooksd_existed=$([ -d /usr/share/containers/oci/hooks.d ] && echo yes || echo no)
NAME=packaging-$$-$RANDOM
IMAGE=docker.io/selenium/standalone-chrome:oci-shm-$NAME
PODMAN=(podman --runtime=runc --cgroup-manager=cgroupfs --events-backend=file)
RUN=(run --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
if [ "$hooksd_existed" = no ]; then # the package's directories go with it
        add_cleanup "rmdir /usr/share/containers/oci/hooks.d /usr/share/containers/oci"
fi
add_cleanup "${PODMAN[*]} rm -f $NAME-bg"
add_cleanup "${PODMAN[*]} rmi -f $IMAGE"
add_cleanup "DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq oci-shm-hook"

cd "$STAGE"
export DEBIAN_FRONTEND=noninteractive
if apt-get install -y -qq "./$(basename "$DEB")" >"$WORK/apt.log" 2>&1; then
        pass "apt-get install ./$(basename "$DEB")"
else
        cat "$WORK/apt.log"
        fail "apt-get install failed"
        finish
fi
cd "$TOP"
for f in /usr/libexec/oci/hooks.d/oci-shm-hook /usr/libexec/oci/hooks.d/oci-shm-runtime \
        /usr/share/containers/oci/hooks.d/oci-shm-hook.json /etc/oci-shm-hook/policy.conf; do
        [ -f "$f" ] && pass "installed: $f" || fail "not installed: $f"
done
[ -d /etc/oci-shm-hook/policy.d ] && pass "installed: /etc/oci-shm-hook/policy.d/" || fail "no policy.d/"
expect_eq "the hooks.d JSON names the installed hook" \
        "$(jq -r .hook.path /usr/share/containers/oci/hooks.d/oci-shm-hook.json)" /usr/libexec/oci/hooks.d/oci-shm-hook
expect_eq "dpkg records policy.conf as a conffile" \
        "$(dpkg-query -W -f '${Conffiles}' oci-shm-hook | awk '{print $1}' | sed '/^$/d')" /etc/oci-shm-hook/policy.conf
expect_eq "man -w oci-shm-hook" "$(man -w oci-shm-hook 2>&1)" /usr/share/man/man8/oci-shm-hook.8.gz
expect_eq "man -w 5 oci-shm-policy" "$(man -w 5 oci-shm-policy 2>&1)" /usr/share/man/man5/oci-shm-policy.5.gz
expect_eq "man -w oci-shm-runtime" "$(man -w oci-shm-runtime 2>&1)" /usr/share/man/man8/oci-shm-runtime.8.gz
expect_eq "--version" "$(/usr/libexec/oci/hooks.d/oci-shm-hook --version)" "oci-shm-hook $VERSION"
expect_eq "oci-shm-hook is on the PATH as /usr/sbin/oci-shm-hook" \
        "$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v oci-shm-hook) $(/usr/sbin/oci-shm-hook --version)" \
        "/usr/sbin/oci-shm-hook oci-shm-hook $VERSION"
expect_contains "oci-shm-hook status runs from the PATH" "$(/usr/sbin/oci-shm-hook status)" "CONTAINER"
expect_contains "the shipped policy is valid and changes nothing" \
        "$(/usr/libexec/oci/hooks.d/oci-shm-hook check)" "policy OK: 0 rules"
cp /etc/oci-shm-hook/policy.conf "$WORK/policy.orig"
add_cleanup "cp $WORK/policy.orig /etc/oci-shm-hook/policy.conf"

# A Selenium image: a busybox root file system imported under Selenium's name.
make_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
"${PODMAN[@]}" import -q "$WORK/rootfs.tar" "$IMAGE" >/dev/null
SHOW='df -k /dev/shm | awk "NR==2 {print \$2}"'

before=$("${PODMAN[@]}" "${RUN[@]}" --rm "$IMAGE" sh -c "$SHOW" 2>&1)
expect_eq "with every rule commented out: Podman's default /dev/shm (KiB)" "$before" 64000

# The admin's one edit: uncomment the Selenium line.
sed -i 's|^#\(image=selenium/\*[[:space:]]*shm=2g\)[[:space:]]*$|\1|' /etc/oci-shm-hook/policy.conf
expect_eq "exactly one line changed" "$(diff "$WORK/policy.orig" /etc/oci-shm-hook/policy.conf | grep -c '^>')" 1
line=$(grep -n '^image=selenium/\*' /etc/oci-shm-hook/policy.conf | cut -d: -f1)
expect_contains "oci-shm-hook check accepts it" "$(/usr/libexec/oci/hooks.d/oci-shm-hook check)" "policy OK: 1 rule"

out=$("${PODMAN[@]}" "${RUN[@]}" --rm "$IMAGE" sh -c "$SHOW" 2>&1)
expect_eq "a plain podman run (no --hooks-dir) of selenium gets 2 GiB of /dev/shm (KiB)" "$out" 2097152

# explain --bundle on the live container's bundle names the rule.
"${PODMAN[@]}" "${RUN[@]}" -d --name "$NAME-bg" "$IMAGE" sleep 60 >/dev/null
id=$("${PODMAN[@]}" inspect -f '{{.Id}}' "$NAME-bg")
bundle=$("${PODMAN[@]}" info -f '{{.Store.GraphRoot}}')/overlay-containers/$id/userdata
explain=$(/usr/libexec/oci/hooks.d/oci-shm-hook explain --bundle "$bundle" 2>&1)
expect_contains "explain --bundle: the image" "$explain" "$IMAGE"
expect_contains "explain --bundle: the rule" "$explain" "/etc/oci-shm-hook/policy.conf:$line"
expect_contains "explain --bundle: the size" "$explain" "2147483648 bytes"
expect_eq "the running container's /dev/shm (KiB)" \
        "$("${PODMAN[@]}" exec "$NAME-bg" sh -c "$SHOW")" 2097152
"${PODMAN[@]}" rm -f -t 0 "$NAME-bg" >/dev/null
# The installed hook recorded these containers in the machine's /run/oci-shm-hook, as
# it should; take back the records of this test's image, and check there were some.
records=$(grep -lFx "image=$IMAGE" /run/oci-shm-hook/* 2>/dev/null || true)
[ -n "$records" ] && pass "the installed hook wrote its decision records" ||
        fail "no decision record of $IMAGE in /run/oci-shm-hook"
# shellcheck disable=SC2086 # one path a line, no spaces in them
rm -f $records

# An admin's edit survives reinstalling the package (conffile).
apt-get install -y -qq --reinstall "$STAGE/$(basename "$DEB")" >"$WORK/apt2.log" 2>&1 ||
        fail "reinstall: $(cat "$WORK/apt2.log")"
grep -q '^image=selenium/\*' /etc/oci-shm-hook/policy.conf && pass "the admin's edit survives a reinstall" ||
        fail "reinstall replaced the edited policy"

# Back to how the machine was.
cp "$WORK/policy.orig" /etc/oci-shm-hook/policy.conf
"${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null
apt-get purge -y -qq oci-shm-hook >"$WORK/purge.log" 2>&1 || fail "purge: $(cat "$WORK/purge.log")"
[ ! -e /etc/oci-shm-hook ] && pass "purge removes /etc/oci-shm-hook" || fail "/etc/oci-shm-hook left after purge"
[ ! -e /usr/share/containers/oci/hooks.d/oci-shm-hook.json ] && pass "purge removes the hooks.d JSON" ||
        fail "hooks.d JSON left after purge"
[ ! -e /usr/libexec/oci/hooks.d/oci-shm-hook ] && pass "purge removes the hook" || fail "hook left after purge"
[ ! -e /usr/sbin/oci-shm-hook ] && [ ! -L /usr/sbin/oci-shm-hook ] && pass "purge removes /usr/sbin/oci-shm-hook" ||
        fail "/usr/sbin/oci-shm-hook left after purge"

# ---- 6. upgrades keep the admin's edits ----
# A second package of the next version, built from a copy of the tree with
# the project version, debian/changelog and the shipped (commented) policy.conf
# changed. Install the first, edit policy.conf and add a policy.d drop-in as an
# admin does, upgrade: the edit and the drop-in stay, the new default lands
# beside the edit as policy.conf.dpkg-dist, the hook is the new one. Then
# `dpkg --purge`: every file the package owns goes (the conffile and its
# .dpkg-dist too); the drop-in, which no package owns, stays, and with it the
# two directories that hold it; nothing else on the machine changes.
echo "--- upgrade: $VERSION -> the next version"
V2=${VERSION%.*}.$((${VERSION##*.} + 1))
SRC2=$WORK/deb2/oci-shm-hook-$V2
mkdir -p "$SRC2"
tar -C "$SRC" --exclude='./obj-*' --exclude='./debian/oci-shm-hook' --exclude='./debian/.debhelper' \
        --exclude='./debian/tmp' -cf - . | tar -C "$SRC2" -xf -
sed -i "s/^project(oci-shm-hook VERSION $VERSION /project(oci-shm-hook VERSION $V2 /" "$SRC2/CMakeLists.txt"
{
        printf 'oci-shm-hook (%s) unstable; urgency=medium\n\n  * Upgrade test build.\n\n' "$V2"
        printf ' -- oci-shm-hook tests <tests@example.invalid>  %s\n\n' "$(date -R)"
        cat "$SRC/debian/changelog"
} >"$SRC2/debian/changelog"
echo "# (a line the next version adds to the shipped policy)" >>"$SRC2/config/policy.conf"
build_deb "$SRC2" "$WORK/build2.log" "of $V2"
DEB2=$(ls "$WORK"/deb2/oci-shm-hook_"$V2"_*.deb)
if dpkg-query -W -f '${Status}' oci-shm-hook 2>/dev/null | grep -q installed || [ -e /etc/oci-shm-hook ]; then
        fail "oci-shm-hook or /etc/oci-shm-hook is on this machine already; not testing the upgrade"
        finish
fi
# The machine's files, to compare after the purge (the package touches /etc and /usr).
snapshot() { find /etc /usr -xdev -printf '%y %p\n' 2>/dev/null | sort; }
snapshot >"$WORK/before.txt"
add_cleanup "rm -rf /etc/oci-shm-hook"
add_cleanup "dpkg --purge oci-shm-hook"
dpkg -i "$DEB" >"$WORK/dpkg1.log" 2>&1 && pass "dpkg -i $VERSION" || fail "dpkg -i $VERSION: $(cat "$WORK/dpkg1.log")"
expect_eq "installed: $VERSION" "$(dpkg-query -W -f '${Version}' oci-shm-hook)" "$VERSION"
# The admin's edits.
sed -i 's|^#\(image=selenium/\*[[:space:]]*shm=2g\)[[:space:]]*$|\1|' /etc/oci-shm-hook/policy.conf
echo 'annotation:example.com/shm=* shm=request max=4g' >/etc/oci-shm-hook/policy.d/50-admin.conf
cp /etc/oci-shm-hook/policy.conf "$WORK/admin-policy.conf"
cp /etc/oci-shm-hook/policy.d/50-admin.conf "$WORK/admin-dropin.conf"
expect_contains "the edits make a valid policy" "$(/usr/sbin/oci-shm-hook check 2>&1)" "policy OK: 2 rules in 2 files"
# The shipped policy.conf changed and so did the admin's: dpkg would ask; an
# unattended upgrade keeps the admin's (--force-confold, as apt's
# Dpkg::Options does).
if dpkg -i --force-confold "$DEB2" </dev/null >"$WORK/dpkg2.log" 2>&1; then
        pass "dpkg -i --force-confold $V2 (the upgrade)"
else
        fail "the upgrade failed: $(cat "$WORK/dpkg2.log")"
fi
expect_eq "installed: $V2" "$(dpkg-query -W -f '${Version}' oci-shm-hook)" "$V2"
expect_eq "the hook is the new one" "$(/usr/libexec/oci/hooks.d/oci-shm-hook --version)" "oci-shm-hook $V2"
dpkg-deb -x "$DEB2" "$WORK/unpacked2"
expect_eq "the installed hook is the new package's, byte for byte" \
        "$(cmp -s "$WORK/unpacked2/usr/libexec/oci/hooks.d/oci-shm-hook" /usr/libexec/oci/hooks.d/oci-shm-hook && echo same)" same
expect_eq "the admin's policy.conf survives the upgrade" \
        "$(cmp -s "$WORK/admin-policy.conf" /etc/oci-shm-hook/policy.conf && echo same)" same
expect_eq "the admin's drop-in survives the upgrade" \
        "$(cmp -s "$WORK/admin-dropin.conf" /etc/oci-shm-hook/policy.d/50-admin.conf && echo same)" same
expect_eq "the new default policy.conf is beside it as policy.conf.dpkg-dist" \
        "$(cmp -s "$WORK/unpacked2/etc/oci-shm-hook/policy.conf" /etc/oci-shm-hook/policy.conf.dpkg-dist && echo same)" same
expect_contains "the hook still reads both" "$(/usr/sbin/oci-shm-hook check 2>&1)" "policy OK: 2 rules in 2 files"
# The same with a plain `dpkg -i` of the same version again: no question asked, nothing replaced.
dpkg -i "$DEB2" </dev/null >"$WORK/dpkg3.log" 2>&1 && pass "a plain dpkg -i of $V2 again" ||
        fail "plain dpkg -i: $(cat "$WORK/dpkg3.log")"
expect_eq "the admin's policy.conf survives a plain reinstall" \
        "$(cmp -s "$WORK/admin-policy.conf" /etc/oci-shm-hook/policy.conf && echo same)" same
dpkg -L oci-shm-hook >"$WORK/owned.txt"
dpkg --purge oci-shm-hook >"$WORK/purge2.log" 2>&1 && pass "dpkg --purge" || fail "dpkg --purge: $(cat "$WORK/purge2.log")"
expect_eq "purged" "$(dpkg-query -W -f '${Status}' oci-shm-hook 2>/dev/null || echo gone)" gone
expect_contains "dpkg says it kept the directory with the admin's file" "$(cat "$WORK/purge2.log")" \
        "directory '/etc/oci-shm-hook/policy.d' not empty so not removed"
expect_eq "the admin's drop-in is still there after the purge, unchanged" \
        "$(cmp -s "$WORK/admin-dropin.conf" /etc/oci-shm-hook/policy.d/50-admin.conf && echo same)" same
left=$(while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done <"$WORK/owned.txt")
expect_eq "no file the package owned is left" "$left" ""
expect_eq "the conffile and its .dpkg-dist are gone" \
        "$(ls /etc/oci-shm-hook/policy.conf* 2>/dev/null)" ""
snapshot >"$WORK/after.txt"
expect_eq "after the purge, the machine differs from before by the admin's drop-in and its directories only" \
        "$(diff "$WORK/before.txt" "$WORK/after.txt" | grep '^[<>]' | tr '\n' ' ')" \
        "> d /etc/oci-shm-hook > d /etc/oci-shm-hook/policy.d > f /etc/oci-shm-hook/policy.d/50-admin.conf "
rm -rf /etc/oci-shm-hook

# ---- 7. the same for the RPM's %config(noreplace), in a scratch root ----
# Debian's rpm installs with --root into a directory of its own (--nodeps:
# that root has no RPM-packaged libc): install the first, edit, `rpm -U` the
# second, `rpm -e`. Nothing outside that root is touched.
echo "--- RPM upgrade: $VERSION -> $V2 in a scratch root"
RPMTOP2=$WORK/rpm2
mkdir -p "$RPMTOP2/SOURCES" "$RPMTOP2/src"
cp -a "$SRC2" "$RPMTOP2/src/oci-shm-hook-$V2"
rm -rf "$RPMTOP2/src/oci-shm-hook-$V2/debian" "$RPMTOP2/src/oci-shm-hook-$V2"/obj-*
SPEC2=$RPMTOP2/src/oci-shm-hook-$V2/packaging/rpm/oci-shm-hook.spec
sed -i "s/^Version:\( *\)$VERSION\$/Version:\1$V2/" "$SPEC2"
tar -C "$RPMTOP2/src" -czf "$RPMTOP2/SOURCES/oci-shm-hook-$V2.tar.gz" "oci-shm-hook-$V2"
if [ -z "${RPMFILE:-}" ]; then
        fail "no RPM of $VERSION to upgrade from"
elif rpmbuild --define "_topdir $RPMTOP2" --load="$RPMTOP/macros" --nodeps --nocheck -bb "$SPEC2" \
        >"$RPMTOP2/build.log" 2>&1; then
        pass "rpmbuild -bb of $V2"
        RPMFILE2=$(ls "$RPMTOP2"/RPMS/*/oci-shm-hook-"$V2"-*.rpm)
        R=$WORK/rpmroot
        mkdir -p "$R"
        rpm_r() { rpm --root "$R" --nodeps "$@"; }
        rpm --root "$R" --initdb
        rpm_r -i "$RPMFILE" >"$WORK/rpm1.log" 2>&1 && pass "rpm --root -i $VERSION" ||
                fail "rpm -i: $(cat "$WORK/rpm1.log")"
        sed -i 's|^#\(image=selenium/\*[[:space:]]*shm=2g\)[[:space:]]*$|\1|' "$R/etc/oci-shm-hook/policy.conf"
        echo 'annotation:example.com/shm=* shm=request max=4g' >"$R/etc/oci-shm-hook/policy.d/50-admin.conf"
        cp "$R/etc/oci-shm-hook/policy.conf" "$WORK/rpm-admin-policy.conf"
        rpm_r -U "$RPMFILE2" >"$WORK/rpm2.log" 2>&1 && pass "rpm --root -U $V2" ||
                fail "rpm -U: $(cat "$WORK/rpm2.log")"
        expect_eq "rpm: installed $V2" "$(rpm --root "$R" -q --qf '%{VERSION}' oci-shm-hook)" "$V2"
        expect_eq "rpm: the hook is the new one" \
                "$("$R/usr/libexec/oci/hooks.d/oci-shm-hook" --version)" "oci-shm-hook $V2"
        expect_eq "rpm: the admin's policy.conf survives rpm -U" \
                "$(cmp -s "$WORK/rpm-admin-policy.conf" "$R/etc/oci-shm-hook/policy.conf" && echo same)" same
        expect_contains "rpm: the new default is beside it as policy.conf.rpmnew" \
                "$(cat "$R/etc/oci-shm-hook/policy.conf.rpmnew" 2>&1)" "a line the next version adds"
        expect_contains "rpm says so" "$(cat "$WORK/rpm2.log")" "created as /etc/oci-shm-hook/policy.conf.rpmnew"
        expect_eq "rpm: the admin's drop-in survives rpm -U" \
                "$(cat "$R/etc/oci-shm-hook/policy.d/50-admin.conf")" 'annotation:example.com/shm=* shm=request max=4g'
        rpm -qlp "$RPMFILE2" 2>/dev/null >"$WORK/rpm-owned.txt"
        rpm_r -e oci-shm-hook >"$WORK/rpm3.log" 2>&1 && pass "rpm --root -e" || fail "rpm -e: $(cat "$WORK/rpm3.log")"
        left=$(while read -r f; do if [ -f "$R$f" ] || [ -L "$R$f" ]; then echo "$f"; fi; done <"$WORK/rpm-owned.txt")
        expect_eq "rpm -e: no file the package owned is left" "$left" ""
        # rpm keeps an edited %config file on erase, renamed: unlike dpkg --purge.
        expect_eq "rpm -e: the edited policy.conf is kept as policy.conf.rpmsave" \
                "$(cmp -s "$WORK/rpm-admin-policy.conf" "$R/etc/oci-shm-hook/policy.conf.rpmsave" && echo same)" same
        expect_eq "rpm -e: the admin's drop-in stays" \
                "$(cat "$R/etc/oci-shm-hook/policy.d/50-admin.conf")" 'annotation:example.com/shm=* shm=request max=4g'
        expect_eq "rpm -e: what is left in the root's /etc/oci-shm-hook" \
                "$(cd "$R/etc/oci-shm-hook" && find . | sort | tr '\n' ' ')" \
                ". ./policy.conf.rpmnew ./policy.conf.rpmsave ./policy.d ./policy.d/50-admin.conf "
else
        tail -30 "$RPMTOP2/build.log"
        fail "rpmbuild of $V2 failed"
fi

finish
