#!/usr/bin/env bash
# A private, throw-away Docker engine and a local MariaDB image for the `docker` tests, so
# `fixpack rehearse --backend docker` runs for real on a machine (or CI runner) that has only
# the docker client and no registry access.
#
#   tools/docker-engine.sh up DIR [TAG...]  install docker.io/debootstrap if missing (apt), start
#                                         dockerd with everything under DIR, make sure each image
#                                         TAG (default fixpack-test/mariadb:10.11) exists: load the
#                                         cached tarball, else build it (debootstrap + apt in the
#                                         image) and cache it. Prints DOCKER_HOST=... on stdout.
#   tools/docker-engine.sh image DIR TAG...  the same for images, on the engine already up in DIR.
#   tools/docker-engine.sh down DIR       remove every container, stop dockerd and its containerd,
#                                         unmount and delete DIR. Safe to run twice.
#
# Image tags and what they are built from (the Debian suite's own server package):
#   fixpack-test/mariadb:10.5   bullseye  mariadb-server (10.5)
#   fixpack-test/mariadb:10.11  bookworm  mariadb-server (10.11)
#   fixpack-test/mariadb:11.8   trixie    mariadb-server (11.8)
#   fixpack-test/mysql:9.7      sid       mysql-server (9.7; Debian serves no MySQL 8 any more)
# A build whose server does not report the tag's version fails (the suite moved on).
#
# Nothing outside DIR and the image cache (~/.cache/fixpack-test-tools) is changed: no firewall
# rules, no sysctls, no system service (the engine has its own bridge, no iptables/masquerade/
# forwarding, and publishes ports on 127.0.0.1 only). Any failure exits non-zero with one line.
set -euo pipefail

die() { echo "docker-engine.sh: $*" >&2; exit 1; }
log() { echo "docker-engine.sh: $*" >&2; }

cache="${FIXPACK_TOOLS_CACHE:-$HOME/.cache/fixpack-test-tools}"
here="$(cd "$(dirname "$0")" && pwd)"

install_packages() {
    # dockerd from Debian's docker.io (20.10 on bookworm); the client already here may be newer,
    # it negotiates the API version down.
    local need=()
    command -v dockerd >/dev/null || need+=(docker.io)
    command -v debootstrap >/dev/null || need+=(debootstrap)
    [ ${#need[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${need[*]}"
    command -v apt-get >/dev/null || die "no apt-get to install ${need[*]}"
    log "installing ${need[*]} (apt-get)"
    timeout 300 apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >&2 || die "apt-get install ${need[*]} failed"
}

start_engine() {
    local dir="$1" sock="$1/docker.sock"
    mkdir -p "$dir/data" "$dir/exec"
    [ "$(id -u)" -eq 0 ] || die "dockerd needs root"
    # A bridge name of our own (<= 15 chars), derived from DIR so two engines do not collide.
    local h bridge
    h="$(echo -n "$dir" | md5sum)"
    bridge="fxp${h:0:8}"
    echo "$bridge" >"$dir/bridge"
    if ! ip link show "$bridge" >/dev/null 2>&1; then
        ip link add name "$bridge" type bridge || die "cannot create bridge $bridge"
        ip addr add "10.213.$((16#${h:8:2})).1/24" dev "$bridge" || die "cannot address bridge $bridge"
        ip link set "$bridge" up
    fi
    setsid dockerd \
        --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
        -H "unix://$sock" --bridge "$bridge" --iptables=false --ip-masq=false --ip-forward=false \
        --ip 127.0.0.1 --userland-proxy=true --storage-driver overlay2 \
        >"$dir/dockerd.log" 2>&1 </dev/null &
    echo $! >"$dir/dockerd.launcher.pid"
    export DOCKER_HOST="unix://$sock"
    for _ in $(seq 1 150); do
        docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$dir/dockerd.launcher.pid")" 2>/dev/null || break
        sleep 0.2
    done
    # overlay2 may be refused (overlay on overlay): retry once with vfs, slower but works anywhere.
    if grep -q "overlay" "$dir/dockerd.log" && ! docker version >/dev/null 2>&1; then
        log "overlay2 refused, retrying with the vfs storage driver"
        stop_engine "$dir" keep
        setsid dockerd \
            --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
            -H "unix://$sock" --bridge "$bridge" --iptables=false --ip-masq=false --ip-forward=false \
            --ip 127.0.0.1 --userland-proxy=true --storage-driver vfs \
            >"$dir/dockerd.log" 2>&1 </dev/null &
        echo $! >"$dir/dockerd.launcher.pid"
        for _ in $(seq 1 150); do
            docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
            sleep 0.2
        done
    fi
    die "dockerd did not answer on $sock: $(tail -n 3 "$dir/dockerd.log" | tr '\n' ' ')"
}

# "SUITE PACKAGE VERSION-PREFIX" for an image tag
recipe() {
    case "$1" in
        fixpack-test/mariadb:10.5) echo "bullseye mariadb-server 10.5." ;;
        fixpack-test/mariadb:10.11) echo "bookworm mariadb-server 10.11." ;;
        fixpack-test/mariadb:11.8) echo "trixie mariadb-server 11.8." ;;
        fixpack-test/mysql:9.7) echo "sid mysql-server 9.7." ;;
        *) die "no recipe for image $1 (known: fixpack-test/mariadb:10.5, :10.11, :11.8, fixpack-test/mysql:9.7)" ;;
    esac
}

build_image() {
    local tag="$1" suite="$2" dir="$3" package="$4" version="$5"
    local mirror
    # the Debian mirror apt already uses (active lines of *.list / *.sources only)
    mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null | grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]+' | grep -E '/debian/?$' \
        | head -n1 || true)"
    mirror="${mirror:-http://deb.debian.org/debian}"
    log "building $tag: debootstrap $suite from $mirror, then $package"
    local started=$SECONDS
    local root="$dir/rootfs-$suite"
    if docker image inspect "fixpack-test/debian:$suite" >/dev/null 2>&1; then
        log "base fixpack-test/debian:$suite already imported"
    else
        timeout 900 debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 \
            || die "debootstrap $suite failed: $(tail -n 2 "$dir/debootstrap.log" | tr '\n' ' ')"
        # docs, manuals, locales and apt caches are not needed by a test server: a smaller image saves
        # and loads faster on every cached run
        rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* \
            "$root"/usr/share/info/* "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
        tar -C "$root" -c . | docker import - "fixpack-test/debian:$suite" >/dev/null \
            || die "docker import failed"
        rm -rf "$root"
    fi
    local ctx="$dir/build-$suite"
    mkdir -p "$ctx"
    cp "$here/docker-mariadb/entrypoint.sh" "$ctx/"
    sed "s|@BASE@|fixpack-test/debian:$suite|; s|@MIRROR@|$mirror|; s|@SUITE@|$suite|; s|@PACKAGE@|$package|" \
        "$here/docker-mariadb/Dockerfile.in" >"$ctx/Dockerfile"
    timeout 900 docker build --network host --force-rm -q -t "$tag" "$ctx" >"$dir/build.log" 2>&1 \
        || die "docker build $tag failed: $(tail -n 3 "$dir/build.log" | tr '\n' ' ')"
    rm -rf "$ctx"
    local reported
    reported="$(docker run --rm --network none --entrypoint /bin/sh "$tag" -c \
        'if command -v mariadbd >/dev/null; then mariadbd --version; else mysqld --version; fi' 2>&1 || true)"
    case "$reported" in
        *" $version"* | *"Ver $version"*) ;;
        *)
            docker rmi -f "$tag" >/dev/null 2>&1 || true
            die "$tag: $suite's $package is not $version*: ${reported:0:160}"
            ;;
    esac
    log "built $tag in $((SECONDS - started)) s: ${reported:0:120}"
}

ensure_image() {
    local tag="$1" dir="$2"
    docker image inspect "$tag" >/dev/null 2>&1 && return 0
    local suite package version
    read -r suite package version <<<"$(recipe "$tag")"
    suite="${FIXPACK_IMAGE_SUITE:-$suite}"
    # the cached tarball is named after what it was built from: editing the Dockerfile, the
    # entrypoint or the recipe builds anew instead of loading a stale image
    local key stem tarball
    key="$( (echo "$suite $package $version"; cat "$here/docker-mariadb/Dockerfile.in" \
        "$here/docker-mariadb/entrypoint.sh") | sha256sum | cut -c1-12)"
    stem="$cache/$(echo "$tag" | tr '/:' '__')"
    tarball="$stem-$key.tar"
    if [ -s "$tarball" ]; then
        docker load -q -i "$tarball" >/dev/null && docker image inspect "$tag" >/dev/null 2>&1 && return 0
        log "cached $tarball did not load; rebuilding"
    fi
    build_image "$tag" "$suite" "$dir" "$package" "$version"
    mkdir -p "$cache"
    docker save -o "$tarball.$$.tmp" "$tag" && mv "$tarball.$$.tmp" "$tarball"  # atomic for parallel runs
    local stale
    for stale in "$stem".tar "$stem"-????????????.tar; do  # the same tag built from older files
        [ "$stale" = "$tarball" ] || rm -f "$stale"
    done
}

stop_engine() {
    local dir="$1" keep="${2:-}"
    export DOCKER_HOST="unix://$dir/docker.sock"
    if [ -S "$dir/docker.sock" ]; then
        local ids
        ids="$(timeout 20 docker ps -aq 2>/dev/null || true)"
        [ -n "$ids" ] && timeout 60 docker rm -f $ids >/dev/null 2>&1 || true
    fi
    local pid=""
    [ -f "$dir/dockerd.pid" ] && pid="$(cat "$dir/dockerd.pid")"
    [ -z "$pid" ] && [ -f "$dir/dockerd.launcher.pid" ] && pid="$(cat "$dir/dockerd.launcher.pid")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # dockerd's own containerd and any shim/proxy left over: only processes whose command line
    # names this DIR (never by a broad name).
    local left
    left="$(pgrep -f -- "$dir/" || true)"
    if [ -n "$left" ]; then
        kill -TERM $left 2>/dev/null || true
        sleep 0.5
        left="$(pgrep -f -- "$dir/" || true)"
        [ -n "$left" ] && kill -KILL $left 2>/dev/null || true
    fi
    # overlay/shm/netns mounts under DIR, deepest first
    awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    [ -n "$keep" ] && return 0
    if [ -f "$dir/bridge" ]; then
        ip link delete "$(cat "$dir/bridge")" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

cmd="${1:-}"
dir="${2:-}"
[ -n "$dir" ] || die "usage: $0 up|image|down DIR [TAG...]"
dir="$(realpath -m "$dir")"
case "$cmd" in
    up)
        shift 2
        [ $# -gt 0 ] || set -- fixpack-test/mariadb:10.11
        for tag in "$@"; do recipe "$tag" >/dev/null; done
        install_packages
        start_engine "$dir"
        for tag in "$@"; do ensure_image "$tag" "$dir"; done
        echo "DOCKER_HOST=unix://$dir/docker.sock"
        ;;
    image)
        shift 2
        [ $# -gt 0 ] || die "usage: $0 image DIR TAG..."
        for tag in "$@"; do recipe "$tag" >/dev/null; done
        export DOCKER_HOST="unix://$dir/docker.sock"
        docker version >/dev/null 2>&1 || die "no engine answers on $dir/docker.sock (run: $0 up $dir)"
        for tag in "$@"; do ensure_image "$tag" "$dir"; done
        ;;
    down) stop_engine "$dir" ;;
    *) die "usage: $0 up|image|down DIR [TAG...]" ;;
esac
