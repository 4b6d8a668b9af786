"""Reports built as data for the reporter tests: every status and severity, awkward text."""

from __future__ import annotations

from typing import Any

from v6gap.model import REPORT_SCHEMA, Finding, Report, Severity, Status, Subject, Target, Tool

TOOL_VERSION = "0.1.0-test"  # fixed, so the golden files do not change with each release


def make_finding(
    check_id: str,
    status: Status,
    severity: Severity,
    title: str = "",
    **fields: Any,
) -> Finding:
    return Finding(
        id=check_id,
        title=title or f"title of {check_id}",
        status=status,
        severity=severity,
        **fields,
    )


def make_report(
    findings: tuple[Finding, ...],
    *,
    hostname: str = "web-01.example.org",
    source: Any = "live",
    profile: str = "server",
    suggestions: tuple[str, ...] = (),
) -> Report:
    summary = {s.value: 0 for s in Status}
    for f in findings:
        summary[f.status.value] += 1
    return Report(
        schema=REPORT_SCHEMA,
        tool=Tool(name="v6gap", version=TOOL_VERSION),
        target=Target(hostname=hostname, source=source, profile=profile),
        summary=summary,
        findings=findings,
        suggestions=suggestions,
    )


_NFT_SCRIPT = (
    "cat <<'EOF' | sudo tee /etc/nftables.d/60-v6gap-input.nft\n"
    "table inet v6gap {\n"
    "  chain input {\n"
    "    type filter hook input priority 0; policy drop;\n"
    "    ct state established,related accept\n"
    "    iif lo accept\n"
    "    meta l4proto ipv6-icmp accept\n"
    "  }\n"
    "}\n"
    "EOF\n"
    "sudo nft -f /etc/nftables.d/60-v6gap-input.nft"
)

_SYSCTL_SCRIPT = (
    "cat <<'EOF' | sudo tee /etc/sysctl.d/60-v6gap-ndp.conf\n"
    "net.ipv6.conf.all.accept_ra = 0\n"
    "net.ipv6.conf.default.accept_ra = 0\n"
    "net.ipv6.conf.eth0.accept_ra = 0\n"
    "EOF\n"
    "sudo sysctl --system"
)

_CIS_RA = "CIS Ubuntu 22.04 v2.0.0 3.3.11 Ensure IPv6 router advertisements are not accepted"


def mixed_report() -> Report:
    """Every status and severity, file:line evidence, several subject kinds, hostile text."""
    findings = (
        make_finding(
            "V6G-STATE-01",
            Status.INFO,
            Severity.INFO,
            "IPv6 status",
            subjects=(Subject(kind="interface", name="eth0", value="enabled"),),
            evidence=(
                "net.ipv6.conf.all.disable_ipv6 = 0 (running)",
                "eth0: 2001:db8:10::5/64, fe80::5054:ff:fe12:3456/64",
                "kernel command line: no ipv6.disable=",
            ),
            references=(
                "seed: IPv6 status",
                "CIS Ubuntu 22.04 v2.0.0 3.1.1 Ensure IPv6 status is identified",
            ),
            reason="IPv6 is on: 2 addresses on 1 interface",
        ),
        make_finding(
            "V6G-STATE-02",
            Status.FAIL,
            Severity.MEDIUM,
            "Running IPv6 settings differ from the boot configuration",
            subjects=(Subject(kind="sysctl", name="net.ipv6.conf.all.accept_ra", value="1"),),
            evidence=(
                "/etc/sysctl.d/99-hardening.conf:3 net.ipv6.conf.all.accept_ra = 0",
                "net.ipv6.conf.all.accept_ra: running 1, boot would set 0 "
                "(/etc/sysctl.d/99-hardening.conf:3)",
            ),
            remediation="Persist the running value in /etc/sysctl.d/ (or remove the file that sets "
            "the old one), then check with: sudo sysctl --system",
            references=("seed: Boot configuration",),
            reason="1 setting would change at the next boot",
        ),
        make_finding(
            "V6G-STATE-03",
            Status.SKIP,
            Severity.HIGH,
            "IPv6 is off everywhere and stays off",
            reason="does not apply to profile server (applies to: disabled)",
            remediation="Disable IPv6 with the sysctls and ipv6.disable=1",
        ),
        make_finding(
            "V6G-STATE-05",
            Status.FAIL,
            Severity.CRITICAL,
            "A global IPv6 address is configured and nothing filters IPv6 input",
            subjects=(
                Subject(kind="address", name="eth0", family="ipv6", address="2001:db8:10::5"),
            ),
            evidence=(
                "ip6tables-save: no rules in any table",
                "nft list ruleset: no ip6 or inet table has an input hook",
            ),
            remediation=_NFT_SCRIPT,
            references=("seed: Firewall parity",),
            reason="2001:db8:10::5 on eth0 is reachable and no IPv6 input filter exists",
        ),
        make_finding(
            "V6G-NDP-01",
            Status.FAIL,
            Severity.HIGH,
            "Router Advertisements are accepted where the profile forbids them",
            subjects=(
                Subject(kind="interface", name="eth0", value="1"),
                Subject(kind="sysctl", name="net.ipv6.conf.default.accept_ra", value="1"),
            ),
            evidence=(
                "/etc/sysctl.d/10-network-security.conf:12 net.ipv6.conf.default.accept_ra = 1",
                "/usr/lib/sysctl.d/50-default.conf masked by /etc/sysctl.d/50-default.conf "
                "(→ /dev/null)",
                "net.ipv6.conf.eth0.accept_ra = 1 (running; forwarding 0, so RAs are taken)",
            ),
            remediation=_SYSCTL_SCRIPT,
            references=("seed: Rogue Router Advertisements", _CIS_RA),
            reason="accept_ra is effective on eth0 and default",
        ),
        make_finding(
            "V6G-NDP-02",
            Status.PASS,
            Severity.HIGH,
            "ICMPv6 redirects are refused",
            evidence=("net.ipv6.conf.all.accept_redirects = 0 (running)",),
            reason="accept_redirects is 0 everywhere",
        ),
        make_finding(
            "V6G-NDP-04",
            Status.PASS,
            Severity.MEDIUM,
            "IPv6 forwarding is off",
            reason="forwarding is 0 on all, default and every interface",
        ),
        make_finding(
            "V6G-NDP-05",
            Status.UNKNOWN,
            Severity.MEDIUM,
            "Neighbour table limits",
            reason="sysctl: permission denied reading net.ipv6.neigh.default.gc_thresh3 (not root)",
            remediation="Run v6gap as root, or save a snapshot as root and audit it",
        ),
        make_finding(
            "V6G-NDP-07",
            Status.FAIL,
            Severity.LOW,
            "Defence in depth against Router Advertisements is left open on a server that "
            "takes its addresses from static configuration",
            subjects=(
                Subject(kind="sysctl", name="net.ipv6.conf.eth0.autoconf", value="1"),
                Subject(kind="sysctl", name="net.ipv6.conf.eth0.max_addresses", value="16"),
            ),
            evidence=(
                "net.ipv6.conf.eth0.autoconf = 1, net.ipv6.conf.eth0.accept_ra_defrtr = 1, "
                "net.ipv6.conf.eth0.accept_ra_pinfo = 1, "
                "net.ipv6.conf.eth0.router_solicitations = 3, "
                "net.ipv6.conf.eth0.max_addresses = 16 (all running values, none set at boot)",
                "a_single_token_that_is_far_too_long_to_fit_on_one_line_"
                "so_it_has_to_be_broken_somewhere_in_the_middle_by_the_wrapper_0123456789",
            ),
            remediation="Set accept_ra_defrtr, accept_ra_pinfo, accept_ra_rtr_pref, autoconf and "
            "router_solicitations to 0 and max_addresses to 1 for every interface in "
            "/etc/sysctl.d/60-v6gap-ndp.conf, then run sudo sysctl --system",
            references=("seed: Rogue Router Advertisements",),
            reason="5 keys are left open on eth0",
        ),
        make_finding(
            "V6G-TUN-01",
            Status.FAIL,
            Severity.HIGH,
            "IPv6 tunnel modules can be loaded",
            subjects=(
                Subject(kind="module", name="sit"),
                Subject(kind="module", name="ip6_tunnel", value="built-in"),
            ),
            evidence=(
                "/etc/modprobe.d/blacklist-v6.conf:2 blacklist sit (a blacklist line does not "
                "stop explicit loading)",
                "ip6_tunnel: built into the kernel (CONFIG_IPV6_TUNNEL=y)",
            ),
            remediation=(
                "echo 'install sit /bin/false' | sudo tee /etc/modprobe.d/60-v6gap-tunnels.conf"
            ),
            references=("seed: Tunnels",),
            reason="sit is loadable; ip6_tunnel is built in",
        ),
        make_finding(
            "V6G-FW-03",
            Status.FAIL,
            Severity.CRITICAL,
            "Ports accepted over IPv6 but refused over IPv4",
            subjects=(
                Subject(kind="port", family="ipv6", proto="tcp", port=8080, process="python3"),
                Subject(kind="port", family="ipv6", proto="udp", port=5353, process="avahi-daemon"),
            ),
            evidence=(
                "ip6 filter input: tcp dport 8080 accept comment \"dev <lab> & 'test'\"",
                "ip filter input: policy drop (no rule accepts tcp 8080)",
                "/etc/nftables.conf:27 udp dport 5353 accept",
            ),
            remediation="Mirror the IPv4 rules: drop tcp 8080 and udp 5353 in the inet input chain",
            references=(
                "seed: Scan evasion",
                "CIS Ubuntu 22.04 v2.0.0 4.3.3.4 Ensure ip6tables "
                "firewall rules exist for all open ports",
            ),
            reason="2 ports are open over IPv6 and closed over IPv4",
        ),
        make_finding(
            "V6G-FW-04",
            Status.UNKNOWN,
            Severity.HIGH,
            "Essential ICMPv6 is accepted",
            evidence=(
                "nft: command not found",
                "ip6tables-save: Permission denied (you must be root)",
            ),
            reason="no ruleset could be read: nft missing, ip6tables-save needs root",
        ),
        make_finding(
            "V6G-EXP-01",
            Status.INFO,
            Severity.INFO,
            "Listener inventory",
            subjects=(
                Subject(
                    kind="socket",
                    family="ipv6",
                    proto="tcp",
                    port=443,
                    address="::",
                    process="nginx: worker ☃",
                ),
                Subject(
                    kind="socket",
                    family="ipv4",
                    proto="udp",
                    port=68,
                    address="0.0.0.0",
                    process="dhclient",
                ),
            ),
            evidence=(
                "tcp [::]:443 dual-stack (nginx: worker ☃)",
                "udp 0.0.0.0:68 IPv4 only (dhclient)",
            ),
            reason="2 listeners",
        ),
        make_finding(
            "V6G-EXP-05",
            Status.PASS,
            Severity.MEDIUM,
            "Dual-stack sockets and IPv4-only allow-lists",
            reason="no application allow-list names IPv4 addresses",
        ),
        make_finding(
            "V6G-K8S-01",
            Status.SKIP,
            Severity.HIGH,
            "Kubernetes dual-stack pod network policy",
            reason="no Kubernetes node components found",
        ),
        make_finding(
            "V6G-L2-01",
            Status.FAIL,
            Severity.LOW,
            "Router Advertisement from an unexpected router",
            subjects=(
                Subject(kind="router", name="eth0", address="fe80::1", value="02:00:00:00:00:01"),
            ),
            evidence=(
                "RA from fe80::1 on eth0 \x1b[2J\x1b[31mspoofed\x1b[0m prefix 2001:db8:bad::/64",
                "ssid: caf\u00e9\u202etxt.exe\tline\r\nsecond line \x00 and byte \udcff",
            ),
            remediation="Add fe80::1 to the RA guard allow-list only if it is your router",
            references=("seed: Rogue Router Advertisements",),
            reason="an RA arrived from fe80::1, which is not allow-listed",
        ),
    )
    suggestions = (
        "this host looks like profile 'slaac-host' (the host uses routes learnt from RAs (1)); "
        "judged as 'server': re-run with --profile slaac-host if that is its role",
    )
    return make_report(findings, suggestions=suggestions)


def clean_report() -> Report:
    """An image audited under ``disabled``: passes and skips only, nothing to suggest."""
    findings = (
        make_finding(
            "V6G-STATE-01",
            Status.INFO,
            Severity.INFO,
            "IPv6 status",
            evidence=("ipv6.disable=1 in /boot/grub/grub.cfg",),
            reason="IPv6 is off",
        ),
        make_finding(
            "V6G-STATE-03",
            Status.PASS,
            Severity.HIGH,
            "IPv6 is off everywhere and stays off",
            reason="ipv6.disable=1 on the kernel command line",
        ),
        make_finding(
            "V6G-NDP-01",
            Status.SKIP,
            Severity.HIGH,
            "Router Advertisements refused",
            reason="IPv6 is off in the kernel (ipv6.disable=1): the sysctls do not exist",
        ),
        make_finding(
            "V6G-FW-01", Status.PASS, Severity.CRITICAL, "IPv6 input is filtered like IPv4 input"
        ),
    )
    return make_report(findings, hostname="image", source="root", profile="disabled")


def empty_report() -> Report:
    return make_report((), hostname="", source="snapshot", profile="router")
