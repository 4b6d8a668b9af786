"""V6G-TUN-02: no IPv6 tunnel interface and no tunnel-form address (6to4, Teredo, ISATAP).

There is no allow-list yet (no policy file exists): a tunnel kept on purpose fails, named, and
the remediation says so.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.tun._tunnels import tunnel_use
from v6gap.model import Severity

NO_ALLOW_LIST = (
    "v6gap has no tunnel allow-list yet: a tunnel kept on purpose keeps failing this check; "
    "record that decision with the report."
)

META = CheckMeta(
    id="V6G-TUN-02",
    title="No IPv6 tunnel interfaces or tunnel addresses",
    severity=Severity.HIGH,
    seed="Tunnel-based bypass",
    remediation=(
        "Delete each tunnel (sudo ip link delete NAME) and remove what creates it at boot "
        "(/etc/network/interfaces, netplan, NetworkManager, systemd-networkd). " + NO_ALLOW_LIST
    ),
)


def evaluate(ctx: Context) -> Result:
    if ctx.is_image:
        return unknown("image: interfaces and addresses exist only on a running system")
    missing = ctx.snapshot.missing("interfaces")
    if missing:
        return unknown(f"cannot read the interfaces ({missing})")
    use = tunnel_use(ctx.snapshot)
    if not use.any:
        seen = f"{len(ctx.snapshot.interfaces)} interfaces checked"
        return passed("no IPv6 tunnel interface or tunnel address", [seen, *use.evidence()])
    names = sorted({s.name or "" for s in use.subjects()})
    fix = "\n".join(
        [f"sudo ip link delete {i.name}" for i in use.interfaces]
        + [
            f"sudo ip -6 address delete {a.address}/{a.prefixlen} dev {i.name}"
            for i, a, _ in use.addresses
            if i not in use.interfaces
        ]
        + [f"# then remove what configures them at boot. {NO_ALLOW_LIST}"]
    )
    return failed(f"IPv6 tunnels in use on {', '.join(names)}", use.subjects(), use.evidence(), fix)


CHECK = Check(META, evaluate)
