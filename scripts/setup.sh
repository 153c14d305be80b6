#!/usr/bin/env bash
# Installs the Debian 12 packages berth needs. `setup.sh build` for building and running
# berthd; `setup.sh test` adds the real peers the tests and benchmarks drive (dig, kdig,
# knot, dnsmasq, unbound, dnsperf, ...). Skips apt entirely when everything is present.
set -euo pipefail

build_pkgs=(
  cmake ninja-build g++ make pkg-config
  libsqlite3-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libssl-dev libcrypt-dev libboost1.81-dev libgtest-dev libgmock-dev libbenchmark-dev
  libmnl-dev libnftables-dev libgoogle-perftools-dev
)
test_pkgs=(
  clang libfuzzer-14-dev libclang-rt-14-dev
  bind9 bind9-dnsutils knot-dnsutils knot dnsmasq-base unbound dnsperf sqlite3
  python3 python3-dnspython iproute2 procps curl util-linux openssl
  ddclient inadyn nftables
  netavark containernetworking-plugins iptables
  podman runc busybox-static
)

want=("${build_pkgs[@]}")
if [[ "${1:-build}" == "test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# policy-rc.d keeps the packaged servers (knot, unbound) from starting as system services:
# tests run their own instances on loopback ports.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
