"""The hardening policy (``v6gap.yaml``): typed, strictly validated, one-line errors by key path."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal, Optional

import msgspec

from v6gap.errors import PolicyError
from v6gap.model import Profile

POLICY_SCHEMA = "v6gap.policy/1"
PROFILES = tuple(p.value for p in Profile)
RATE_UNITS = ("second", "minute", "hour")


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class Service(_Strict, frozen=True, forbid_unknown_fields=True):
    """One allowed inbound service: a port, and where it may come from (empty: anywhere)."""

    port: int
    proto: Literal["tcp", "udp"] = "tcp"
    sources: tuple[str, ...] = ()
    name: str = ""


class OutboundService(_Strict, frozen=True, forbid_unknown_fields=True):
    port: int
    proto: Literal["tcp", "udp"] = "tcp"
    destinations: tuple[str, ...] = ()
    name: str = ""


class EchoLimits(_Strict, frozen=True, forbid_unknown_fields=True):
    """Echo requests accepted per second and burst, per family; 0 refuses echo."""

    ipv4_per_second: int = 5
    ipv6_per_second: int = 5
    burst: int = 10


class Logging(_Strict, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    per_minute: int = 10
    prefix: str = "v6gap drop: "


class Ndp(_Strict, frozen=True, forbid_unknown_fields=True):
    """Neighbour table sizes (``net.ipv6.neigh.default.gc_thresh1..3``)."""

    gc_thresh1: int = 128
    gc_thresh2: int = 512
    gc_thresh3: int = 1024


class Output(_Strict, frozen=True, forbid_unknown_fields=True):
    """The output chain: ``accept`` everything, or ``drop`` all but ``allow`` and the essentials."""

    policy: Literal["accept", "drop"] = "accept"
    allow: tuple[OutboundService, ...] = ()


class ForwardRule(_Strict, frozen=True, forbid_unknown_fields=True):
    """One forwarded flow a router or node lets through (new connections; replies follow)."""

    sources: tuple[str, ...] = ()  # empty: any source
    destinations: tuple[str, ...] = ()  # empty: any destination
    proto: Optional[Literal["tcp", "udp"]] = None  # None: any protocol (then no port)
    port: Optional[int] = None
    name: str = ""


class Forward(_Strict, frozen=True, forbid_unknown_fields=True):
    """The forward chain of profiles router and k8s-node (default deny; these are let through)."""

    allow: tuple[ForwardRule, ...] = ()
    # k8s-node: the pod and service prefixes (both families); traffic from or to them passes.
    pod_prefixes: tuple[str, ...] = ()


class Policy(_Strict, frozen=True, forbid_unknown_fields=True):
    profile: Profile = Profile.SERVER
    services: tuple[Service, ...] = ()
    # None: not decided in the file; ``init`` fills it from the host's routers.
    routers: Optional[tuple[str, ...]] = None
    echo: EchoLimits = EchoLimits()
    tunnels_used: bool = False
    logging: Logging = Logging()
    ndp: Ndp = Ndp()
    output: Output = Output()
    forward: Forward = Forward()
    schema: str = POLICY_SCHEMA


# --------------------------------------------------------------------------- loading


def load_policy(path: str) -> Policy:
    """Read and validate ``path``; any problem is a PolicyError naming the file and the key."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text") from None
    return parse_policy(text, path)


def parse_policy(text: str, origin: str = "policy") -> Policy:
    yaml = _yaml()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise PolicyError(f"{origin}:{where}: {problem}") from None
    if data is None:
        data = {}
    return policy_from_data(data, origin)


def policy_from_data(data: Any, origin: str = "policy") -> Policy:
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: the policy must be a mapping of keys, not {_kind(data)}")
    try:
        policy = msgspec.convert(data, Policy)
    except msgspec.ValidationError as exc:
        raise PolicyError(f"{origin}: {_reword(str(exc))}") from None
    problem = validate(policy)
    if problem:
        raise PolicyError(f"{origin}: {problem}")
    return policy


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


_AT = re.compile(r"^(?P<msg>.*?) - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]+)`")


def _reword(message: str) -> str:
    """msgspec's ``Problem - at `$.a[0].b``` as ``a[0].b: problem``."""
    found = _AT.match(message)
    path, msg = (found["path"].lstrip("."), found["msg"]) if found else ("", message)
    unknown = _UNKNOWN.match(msg)
    if unknown:
        key = unknown["key"]
        return f"{path + '.' if path else ''}{key}: unknown key"
    if path == "profile" and msg.startswith("Invalid enum value"):
        return f"profile: {msg.split('value ', 1)[1]} is not a profile ({', '.join(PROFILES)})"
    msg = msg.replace("`", "")
    return f"{path or '(top)'}: {msg[0].lower() + msg[1:]}"


# --------------------------------------------------------------------------- meaning


def validate(policy: Policy) -> Optional[str]:
    """The first semantic problem as ``key.path: problem``, or None."""
    for i, svc in enumerate(policy.services):
        problem = _endpoint(f"services[{i}]", svc.port, svc.sources, "sources")
        if problem:
            return problem
    for i, out in enumerate(policy.output.allow):
        problem = _endpoint(f"output.allow[{i}]", out.port, out.destinations, "destinations")
        if problem:
            return problem
    problem = _forward(policy)
    if problem:
        return problem
    for i, router in enumerate(policy.routers or ()):
        problem = _link_local(f"routers[{i}]", router)
        if problem:
            return problem
    checks = (
        ("echo.ipv4_per_second", policy.echo.ipv4_per_second, 0),
        ("echo.ipv6_per_second", policy.echo.ipv6_per_second, 0),
        ("echo.burst", policy.echo.burst, 1),
        ("logging.per_minute", policy.logging.per_minute, 1),
        ("ndp.gc_thresh1", policy.ndp.gc_thresh1, 1),
        ("ndp.gc_thresh2", policy.ndp.gc_thresh2, 1),
        ("ndp.gc_thresh3", policy.ndp.gc_thresh3, 1),
    )
    for key, value, low in checks:
        if not low <= value <= 1_000_000:
            return f"{key}: {value} is out of range ({low}-1000000)"
    ndp = policy.ndp
    if not ndp.gc_thresh1 < ndp.gc_thresh2 < ndp.gc_thresh3:
        return (
            f"ndp: gc_thresh1 < gc_thresh2 < gc_thresh3 is required "
            f"(got {ndp.gc_thresh1}, {ndp.gc_thresh2}, {ndp.gc_thresh3})"
        )
    if '"' in policy.logging.prefix or "\\" in policy.logging.prefix:
        return "logging.prefix: quotes and backslashes are not allowed"
    if len(policy.logging.prefix) > 127:
        return "logging.prefix: longer than 127 characters"
    if policy.schema != POLICY_SCHEMA:
        return f"schema: {policy.schema!r} is not {POLICY_SCHEMA!r}"
    return None


def _endpoint(path: str, port: int, prefixes: tuple[str, ...], key: str) -> Optional[str]:
    if not 1 <= port <= 65535:
        return f"{path}.port: {port} is not a port (1-65535)"
    for j, prefix in enumerate(prefixes):
        problem = _prefix(f"{path}.{key}[{j}]", prefix)
        if problem:
            return problem
    return None


def _forward(policy: Policy) -> Optional[str]:
    forward = policy.forward
    if forward != Forward() and policy.profile not in (Profile.ROUTER, Profile.K8S_NODE):
        return f"forward: only for profiles router and k8s-node (profile is {policy.profile.value})"
    if forward.pod_prefixes and policy.profile is not Profile.K8S_NODE:
        return "forward.pod_prefixes: only for profile k8s-node"
    for j, prefix in enumerate(forward.pod_prefixes):
        problem = _prefix(f"forward.pod_prefixes[{j}]", prefix)
        if problem:
            return problem
    for i, rule in enumerate(forward.allow):
        path = f"forward.allow[{i}]"
        for key, prefixes in (("sources", rule.sources), ("destinations", rule.destinations)):
            for j, prefix in enumerate(prefixes):
                problem = _prefix(f"{path}.{key}[{j}]", prefix)
                if problem:
                    return problem
        if rule.port is not None and rule.proto is None:
            return f"{path}.port: needs proto (tcp or udp)"
        if rule.port is not None and not 1 <= rule.port <= 65535:
            return f"{path}.port: {rule.port} is not a port (1-65535)"
        if not (rule.sources or rule.destinations or rule.port):
            return f"{path}: names no source, destination or port (that would forward everything)"
        src = {ipaddress.ip_network(p).version for p in rule.sources}
        dst = {ipaddress.ip_network(p).version for p in rule.destinations}
        if src and dst and not src & dst:
            return f"{path}: sources and destinations share no IP version"
    return None


def _prefix(path: str, prefix: str) -> Optional[str]:
    try:
        ipaddress.ip_network(prefix, strict=True)
    except ValueError as exc:
        return f"{path}: {prefix!r} is not an IPv4 or IPv6 prefix ({exc})"
    return None


def _link_local(path: str, text: str) -> Optional[str]:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return f"{path}: {text!r} is not an IPv6 address"
    if not address.is_link_local:
        return f"{path}: {text} is not link-local (routers advertise from fe80::/10)"
    return None


def networks(prefixes: tuple[str, ...], version: int) -> list[str]:
    """The prefixes of one IP version, normalised, in the order given."""
    found = (ipaddress.ip_network(p) for p in prefixes)
    return [str(n) for n in found if n.version == version]


def dump_policy(policy: Policy) -> str:
    """The policy as YAML (keys in declaration order)."""
    data = msgspec.to_builtins(policy)
    return str(_yaml().safe_dump(data, sort_keys=False, default_flow_style=False))


def _yaml() -> Any:
    """PyYAML, imported by name: it ships no type stubs, and a missing one is a clear error."""
    import importlib

    try:
        return importlib.import_module("yaml")
    except ImportError:  # pragma: no cover - PyYAML is a declared dependency
        raise PolicyError("a YAML policy needs PyYAML: pip install 'PyYAML>=6,<7'") from None
