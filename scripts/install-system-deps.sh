#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab need (CI runs this as root via `make test`).
set -euo pipefail
# ufw and firewalld make real rulesets inside lab namespaces (tests/lab/test_real_rulesets.py,
# scripts/record_real_rulesets.py); dbus provides firewalld's private bus daemon.
pkgs=(nftables iptables iproute2 iputils-ping procps kmod nmap openssh-server lynis python3-venv
  ufw firewalld dbus-daemon)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# No package may start a service while installing (firewalld's would load its ruleset into the
# machine's own namespace where systemd runs): a policy-rc.d that refuses, removed afterwards.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
