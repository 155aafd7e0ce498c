#!/usr/bin/env bash
# A throw-away compute node made of the real programs, for the `realhost` tests: the generated
# compute scripts run against libvirt + QEMU, Open vSwitch, Linux bridges/veths/taps and the
# open-iscsi node database instead of recording stand-ins.
#
#   tools/realhost.sh install            apt-get install (--no-install-recommends) whatever of
#                                        iproute2, bridge-utils, openvswitch-switch, libvirt +
#                                        qemu-system-x86 + ovmf, tgt and open-iscsi is missing.
#                                        Package scripts start nothing (policy-rc.d).
#   tools/realhost.sh up DIR HOSTNAME    start a private compute node under DIR: new network,
#                                        mount and UTS namespaces (hostname HOSTNAME); /etc,
#                                        /var/lib, /var/log, /var/cache and /dev are overlays
#                                        whose writes land in DIR, /run and /sys are fresh; in
#                                        it ovsdb-server + ovs-vswitchd (userspace datapath,
#                                        bridge br-int with datapath_type=netdev), a private
#                                        libvirtd (qemu:///system, domain type 'qemu') and tgtd.
#   tools/realhost.sh run DIR CMD...     run CMD inside that node (nsenter).
#   tools/realhost.sh down DIR           end every process of the node (by the namespace it
#                                        runs in), which drops its devices and mounts; delete
#                                        DIR. Safe to run twice.
#
# Nothing of the machine changes beyond the packages: its network, /etc, /var and /dev are
# untouched (the libvirt-qemu user libvirtd insists on is added to the private /etc only).
# Needs root and a kernel with namespaces, tun, veth and bridges (no loadable module needed:
# the OVS datapath is in userspace, iSCSI logins are never attempted). Failures exit non-zero
# with one line on stderr.
set -euo pipefail

die() { echo "realhost.sh: $*" >&2; exit 1; }

PACKAGES=(
    "ip:iproute2" "brctl:bridge-utils" "unshare:util-linux" "nsenter:util-linux"
    "ovs-vsctl:openvswitch-switch" "ovsdb-server:openvswitch-switch" "ovs-vswitchd:openvswitch-switch"
    "libvirtd:libvirt-daemon" "virsh:libvirt-clients" "qemu-system-x86_64:qemu-system-x86"
    "tgtd:tgt" "tgtadm:tgt" "iscsiadm:open-iscsi" "useradd:passwd"
)
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
QEMU_DRIVER=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so
CAPS_CACHE="${FIXPACK_TOOLS_CACHE:-$HOME/.cache/fixpack-test-tools}/libvirt-qemu-capabilities"

install_packages() {
    local entry need=() created_policy=0
    for entry in "${PACKAGES[@]}"; do
        command -v "${entry%%:*}" >/dev/null 2>&1 || need+=("${entry#*:}")
    done
    [ -e "$OVMF_CODE" ] || need+=(ovmf)
    [ -e "$QEMU_DRIVER" ] || need+=(libvirt-daemon-driver-qemu)
    [ ${#need[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${need[*]}"
    command -v apt-get >/dev/null || die "no apt-get to install ${need[*]}"
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    echo "realhost.sh: installing ${need[*]} (apt-get)" >&2
    if [ ! -e /usr/sbin/policy-rc.d ]; then # package scripts must not start ovs, tgt, iscsid...
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    local rc=0
    {
        timeout 300 apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
                -o DPkg::Lock::Timeout=300 "${need[@]}"
    } >&2 || rc=$?
    if [ "$created_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    [ "$rc" -eq 0 ] || die "apt-get install ${need[*]} failed"
}

net_ns() { stat -L -c %i "/proc/$1/ns/net" 2>/dev/null; } # the inode naming a network namespace

ns_pid() { # the namespace holder of DIR, if it is alive
    local pid
    pid=$(cat "$1/ns.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(net_ns "$pid")" = "$(cat "$1/ns.net" 2>/dev/null)" ] || return 1
    echo "$pid"
}

start_node() {
    local dir=$1 name=$2 pid _
    [ "$(id -u)" -eq 0 ] || die "a private compute node needs root"
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || die "not a host name: $name"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if ns_pid "$dir" >/dev/null; then die "a node is already running in $dir"; fi
    # The holder: a sleep in new namespaces; everything else joins it with nsenter.
    setsid unshare --net --mount --uts --propagation private -- sleep infinity </dev/null >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$dir/ns.pid"
    for _ in $(seq 1 100); do
        if [ -e "/proc/$pid/ns/net" ] && [ "$(net_ns "$pid")" != "$(net_ns self)" ]; then break; fi
        sleep 0.02
    done
    net_ns "$pid" >"$dir/ns.net" || die "the namespace holder did not start"
    [ "$(cat "$dir/ns.net")" != "$(net_ns self)" ] || die "unshare did not give a new network namespace"
    # libvirtd probes QEMU for its capabilities at start (seconds under TCG); it keeps the
    # result in /var/cache/libvirt and re-probes by itself when QEMU or libvirt changed.
    if [ -d "$CAPS_CACHE" ]; then
        mkdir -p "$dir/overlay_var_cache/upper/libvirt/qemu"
        cp -a "$CAPS_CACHE" "$dir/overlay_var_cache/upper/libvirt/qemu/capabilities"
    fi
    nsenter -t "$pid" -n -m -u -- env DIR="$dir" NODE_NAME="$name" bash -s >"$dir/up.log" 2>&1 <<'INSIDE' ||
set -euo pipefail
# private copies of the machine's directories: reads see the machine's files, writes stay in DIR
for d in /etc /var/lib /var/log /var/cache /dev; do
    o=$DIR/overlay${d//\//_}
    mkdir -p "$o/upper" "$o/work"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$o/upper,workdir=$o/work" "$d"
done
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t sysfs sysfs /sys # /sys/class/net of this network namespace (brctl reads it)
mkdir -p /run/lock/iscsi /run/openvswitch /run/libvirt /run/tgtd
hostname "$NODE_NAME"
ip link set lo up

# Open vSwitch, userspace datapath
rm -f /etc/openvswitch/conf.db /var/lib/openvswitch/conf.db
mkdir -p /etc/openvswitch /var/log/openvswitch
ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --remote=punix:/run/openvswitch/db.sock --pidfile=/run/openvswitch/ovsdb-server.pid \
    --detach --log-file=/var/log/openvswitch/ovsdb-server.log /etc/openvswitch/conf.db
ovs-vsctl --no-wait init
ovs-vswitchd --pidfile=/run/openvswitch/ovs-vswitchd.pid --detach \
    --log-file=/var/log/openvswitch/ovs-vswitchd.log unix:/run/openvswitch/db.sock
ovs-vsctl --timeout=10 add-br br-int -- set bridge br-int datapath_type=netdev

# libvirt + QEMU (TCG): root-run qemu without cgroups, its own mount namespace or a log daemon
if ! getent passwd libvirt-qemu >/dev/null; then # libvirtd refuses to start without it
    useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
fi
mkdir -p /etc/libvirt /var/lib/libvirt/qemu/nvram /var/log/libvirt/qemu /var/cache/libvirt
cat >/etc/libvirt/qemu.conf <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
CONF
cat >/etc/libvirt/libvirtd.conf <<'CONF'
unix_sock_group = "root"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
libvirtd --daemon --pid-file /run/libvirtd.pid
for _ in $(seq 1 1200); do # a first start probes QEMU: seconds, more on a busy machine
    if virsh -c qemu:///system version >/dev/null 2>&1; then break; fi
    sleep 0.05
done
virsh -c qemu:///system version >/dev/null

# tgtd: a real iSCSI target on port 3260 of this namespace
setsid tgtd -f </dev/null >/var/log/tgtd.log 2>&1 &
for _ in $(seq 1 200); do
    if tgtadm --lld iscsi --op show --mode sys >/dev/null 2>&1; then break; fi
    sleep 0.05
done
tgtadm --lld iscsi --op show --mode sys >/dev/null
INSIDE
        {
            tail -n 5 "$dir/up.log" >&2
            stop_node "$dir"
            die "the compute node did not come up (log above)"
        }
    echo "NS_PID=$pid"
}

node_processes() { # every process in the node's network namespace
    stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null | awk -v want="$1" '$1 == want { split($2, p, "/"); print p[3] }'
}

stop_node() {
    local dir=$1 want pids _
    if [ -f "$dir/ns.net" ]; then
        want=$(cat "$dir/ns.net")
        mapfile -t pids < <(node_processes "$want")
        if [ ${#pids[@]} -gt 0 ]; then kill -TERM "${pids[@]}" 2>/dev/null || true; fi
        for _ in $(seq 1 10); do # tgtd ignores SIGTERM: a second later everything left is killed
            mapfile -t pids < <(node_processes "$want")
            [ ${#pids[@]} -eq 0 ] && break
            sleep 0.1
        done
        if [ ${#pids[@]} -gt 0 ]; then kill -KILL "${pids[@]}" 2>/dev/null || true; fi
        for _ in $(seq 1 50); do
            mapfile -t pids < <(node_processes "$want")
            [ ${#pids[@]} -eq 0 ] && break
            sleep 0.1
        done
        [ ${#pids[@]} -eq 0 ] || die "processes ${pids[*]} of the node in $dir would not stop"
    fi
    local caps=$dir/overlay_var_cache/upper/libvirt/qemu/capabilities
    if [ -d "$caps" ] && [ -n "$(ls -A "$caps")" ]; then
        mkdir -p "${CAPS_CACHE%/*}"
        rm -rf "$CAPS_CACHE.new"
        cp -a "$caps" "$CAPS_CACHE.new" && rm -rf "$CAPS_CACHE" && mv "$CAPS_CACHE.new" "$CAPS_CACHE"
    fi
    rm -rf "$dir"
}

case ${1:-} in
    install) install_packages ;;
    up)
        [ $# -eq 3 ] || die "usage: realhost.sh up DIR HOSTNAME"
        install_packages
        start_node "$2" "$3"
        ;;
    run)
        [ $# -ge 3 ] || die "usage: realhost.sh run DIR CMD..."
        pid=$(ns_pid "$2") || die "no node is running in $2"
        shift 2
        exec nsenter -t "$pid" -n -m -u -- "$@"
        ;;
    down)
        [ $# -eq 2 ] || die "usage: realhost.sh down DIR"
        stop_node "$2"
        ;;
    *) die "usage: realhost.sh install | up DIR HOSTNAME | run DIR CMD... | down DIR" ;;
esac
