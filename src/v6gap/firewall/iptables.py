"""Read ``iptables-save`` / ``ip6tables-save`` text (either backend) into the ruleset model.

Each ``*table`` becomes a table of family ip or ip6; built-in chains get their hook and the
priority iptables registers them at (raw -300, mangle -150, nat -100, filter 0, security 50).
Match modules (read in ``_ipt_matches``) outside the common set (tcp, udp, multiport, icmp,
icmp6, conntrack, state, comment, limit, iprange, addrtype, hl, ttl) become ``Unknown`` matches
with their text, never dropped.
"""

from __future__ import annotations

import re
from typing import Optional

from v6gap.errors import RulesetError
from v6gap.firewall import _names
from v6gap.firewall._drop_only import mark, settle
from v6gap.firewall._ipt_matches import Line, read_module
from v6gap.firewall._save_words import split_line
from v6gap.firewall.model import (
    REWRITE_TARGETS,
    AddrMatch,
    Chain,
    IfaceMatch,
    Origin,
    ProtoMatch,
    Rule,
    Rules,
    Ruleset,
    Table,
    Unknown,
    Verdict,
    rewrite_note,
)

MAX_SAVE_CHARS = 64 << 20
MAX_SAVE_LINES = 1_000_000
MAX_LINE_CHARS = 16_384

HOOKS = {
    "INPUT": "input",
    "FORWARD": "forward",
    "PREROUTING": "prerouting",
    "OUTPUT": "output",
    "POSTROUTING": "postrouting",
}
PRIORITIES = {"raw": -300, "mangle": -150, "nat": -100, "filter": 0, "security": 50}
_TARGETS = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return"}
# Targets that let the packet go on to the next rule.
NON_TERMINATING_TARGETS = frozenset(
    {
        "LOG",
        "NFLOG",
        "ULOG",
        "AUDIT",
        "TRACE",
        "MARK",
        "CONNMARK",
        "CLASSIFY",
        "DSCP",
        "TOS",
        "TTL",
        "HL",
        "TCPMSS",
        "CT",
        "NOTRACK",
        "SECMARK",
        "CONNSECMARK",
        "CHECKSUM",
        "IDLETIMER",
        "LED",
        "SET",
        "TEE",
    }
)
_COUNTERS = re.compile(r"^\[\d+:\d+\]\s+")


def save_family(command: str) -> str:
    """``ipv6`` for ip6tables-save (and -legacy/-nft variants), else ``ipv4``."""
    return "ipv6" if command.startswith("ip6") else "ipv4"


def _verdict(line: Line, kind: str, target: Optional[str] = None, detail: str = "") -> Verdict:
    """One frozen ``Verdict`` per distinct value in a dump, not one per rule."""
    key = ("verdict", kind, target, detail)
    found = line.memo.get(key)
    if found is None:
        found = line.memo[key] = Verdict(kind, target, detail=detail)  # type: ignore[arg-type]
    return found  # type: ignore[return-value]


def _target(line: Line, target: str, goto: bool, chains: set[str]) -> None:
    options = line.tokens[line.i :]
    line.i = len(line.tokens)
    if goto:
        line.verdict = _verdict(line, "goto", target)
    elif target in _TARGETS:
        detail = " ".join(options) if target == "REJECT" else ""
        line.verdict = _verdict(line, _TARGETS[target], detail=detail)
    elif target in chains:
        line.verdict = _verdict(line, "jump", target)
    elif target in ("LOG", "NFLOG", "ULOG"):
        line.log = True
    elif target not in NON_TERMINATING_TARGETS:
        line.verdict = Verdict("other", detail=" ".join([target, *options]))


# The generic options of a rule, by what reading them does: one dict lookup per option, not a
# chain of tuple scans (a 100k-rule dump reads about 660,000 options).
_OPTION_KIND = {
    **dict.fromkeys(("-m", "--match"), "match"),
    **dict.fromkeys(("-p", "--protocol"), "protocol"),
    **dict.fromkeys(("-s", "--source", "--src"), "saddr"),
    **dict.fromkeys(("-d", "--destination", "--dst"), "daddr"),
    **dict.fromkeys(("-i", "--in-interface"), "iif"),
    **dict.fromkeys(("-o", "--out-interface"), "oif"),
    **dict.fromkeys(("-j", "--jump"), "jump"),
    **dict.fromkeys(("-g", "--goto"), "goto"),
    **dict.fromkeys(("-f", "--fragment"), "fragment"),
    **dict.fromkeys(("--tcp-flags", "--syn"), "tcp-flags"),
}


def _address_match(line: Line, field: str, option: str, text: str, negate: bool) -> None:
    key = (field, text, negate)  # the same address in many rules: read it once per dump
    known = line.memo.get(key)
    if known is None:
        spans = [_names.address_range(part, line.family) for part in text.split(",")]
        if any(s is None for s in spans):
            known = Unknown(f"{option} {text}")
        else:
            ranges = tuple(s for s in spans if s is not None)
            known = AddrMatch(field, line.family, ranges, text, negate)
        line.memo[key] = known
    line.matches.append(known)  # type: ignore[arg-type]


def _protocol(line: Line, word: str, negate: bool) -> None:
    number = _names.number(word, _names.PROTOCOLS, 255)
    if number is None:
        line.matches.append(Unknown(f"-p {word}"))
        return
    key = ("-p", number, negate)
    known = line.memo.get(key)
    if known is None:
        known = line.memo[key] = ProtoMatch(frozenset({number}), negate, "-p")
    assert isinstance(known, ProtoMatch)
    line.protocols = known.protocols
    line.matches.append(known)


def _rule(
    tokens: list[str],
    family: str,
    chains: set[str],
    origin: Origin,
    memo: Optional[dict[object, object]] = None,
) -> Rule:
    line = Line(tokens, family, {} if memo is None else memo)
    size = len(tokens)
    while line.i < size:
        option = tokens[line.i]
        negate = option == "!"
        if negate:
            line.i += 1
            option = line.take()
        else:
            line.i += 1  # take() inlined: this loop runs for every option of every rule
        kind = _OPTION_KIND.get(option)
        if kind == "match":
            read_module(line, line.take())
        elif kind == "protocol":
            word = line.take().lower()
            if not (word == "all" and not negate):
                _protocol(line, word, negate)
        elif kind == "saddr" or kind == "daddr":
            _address_match(line, kind, option, line.take(), negate)
        elif kind == "iif" or kind == "oif":
            name = line.take()
            name = name[:-1] + "*" if name.endswith("+") else name
            line.matches.append(IfaceMatch(kind, (name,), negate))
        elif kind == "jump" or kind == "goto":
            _target(line, line.take(), kind == "goto", chains)
        elif kind == "fragment":
            line.matches.append(Unknown("! -f") if negate else mark("extension header: ", "-f"))
        elif kind == "tcp-flags":
            args = [option, *line.module_args()]
            line.matches.append(Unknown(" ".join(args)))
        elif option.startswith("--"):  # an option of the implicit -p module (--dport after -p tcp)
            line.i -= 1 + negate
            read_module(line, _PROTO_MODULES.get(next(iter(line.protocols or {0})), "?"))
        else:
            line.matches.append(Unknown(" ".join([option, *line.module_args()])))
    return Rule(
        tuple(settle(line.matches, line.verdict)),
        line.verdict,
        origin,
        log=line.log,
        counter=True,
        limit=line.limit,
        comment=line.comment,
    )


_PROTO_MODULES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}


def read_save(text: str, command: str = "iptables-save") -> Ruleset:
    """The tables of one save dump; the family comes from the command's name."""
    with _names.no_gc():
        return _read_save(text, command)


# Options whose value _rule takes: one of them (or a "!") as a line's last word may lack it.
_TAKES_VALUE = frozenset(
    k for k, kind in _OPTION_KIND.items() if kind not in ("fragment", "tcp-flags")
)

Pending = list[tuple[int, str, list[str]]]  # (line number, line, words) of one chain's rules


_REWRITE_WORDS = frozenset(t.upper() for t in REWRITE_TARGETS)


def _rewrites(tokens: list[str]) -> bool:
    """Whether the rule's target rewrites its destination (not a comment that names one)."""
    if _REWRITE_WORDS.isdisjoint(tokens):
        return False
    for jump in ("-j", "--jump"):
        if jump in tokens:
            at = tokens.index(jump) + 1
            return at < len(tokens) and tokens[at] in _REWRITE_WORDS
    return False


def _chain_rules(
    command: str,
    family: str,
    names: set[str],
    memo: dict[object, object],
    pending: Pending,
) -> Rules:
    """The rules of one chain, built when first read (see ``model.Rules``)."""

    def build() -> tuple[Rule, ...]:
        with _names.no_gc():
            return tuple(
                _built(command, family, names, memo, n, line, tokens) for n, line, tokens in pending
            )

    return Rules(len(pending), build)


def _built(
    command: str,
    family: str,
    names: set[str],
    memo: dict[object, object],
    number: int,
    line: str,
    tokens: list[str],
) -> Rule:
    origin = Origin(command, f"line {number}: {line[:200]}")
    try:
        return _rule(tokens[2:], family, names, origin, memo)
    except RulesetError as exc:
        raise RulesetError(f"{command} line {number}: {exc}") from None


def _read_save(text: str, command: str) -> Ruleset:
    if len(text) > MAX_SAVE_CHARS:
        raise RulesetError(f"{command} output larger than {MAX_SAVE_CHARS} characters")
    lines = text.splitlines()
    if len(lines) > MAX_SAVE_LINES:
        raise RulesetError(f"{command} output has more than {MAX_SAVE_LINES} lines")
    family = save_family(command)
    nft_family = "ip6" if family == "ipv6" else "ip"
    tables: list[Table] = []
    notes: list[str] = []
    table_name: Optional[str] = None
    declared: dict[str, tuple[Optional[str], Optional[str]]] = {}  # chain -> (hook, policy)
    memo: dict[object, object] = {}
    names: set[str] = set()  # declared's keys, kept as a set (not rebuilt for every rule)
    pending: dict[str, Pending] = {}
    rewrites: list[int] = []  # the line numbers of this table's rules that rewrite destinations

    def close() -> None:
        if table_name is None:
            return
        built = tuple(
            Chain(
                name,
                hook,
                PRIORITIES.get(table_name, 0),
                policy,
                "nat" if table_name == "nat" else "filter",
                _chain_rules(command, family, names, memo, pending.get(name, [])),
                Origin(command, f"*{table_name} {name}"),
            )
            for name, (hook, policy) in declared.items()
        )
        refs = tuple(f"line {n}" for n in rewrites)
        tables.append(Table(nft_family, table_name, command, built, rewrites=refs))
        if refs:
            notes.append(rewrite_note(f"{command}: *{table_name}", len(refs), refs[0]))
        if table_name in ("raw", "mangle"):  # drops there come before every input chain
            prerouting = next((c for c in built if c.name == "PREROUTING"), None)
            notes.extend(
                f"{command}: {table_name} PREROUTING drops before input: {rule.origin.ref}"
                for rule in (prerouting.rules if prerouting else ())
                if rule.verdict.kind in ("drop", "reject")
            )

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line.startswith("["):
            line = _COUNTERS.sub("", line)
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE_CHARS:
            raise RulesetError(f"{command} line {number} longer than {MAX_LINE_CHARS} characters")
        if line.startswith("*"):
            close()
            table_name, declared, names, pending = line[1:].strip(), {}, set(), {}
            rewrites = []
        elif line == "COMMIT":
            close()
            table_name = None
        elif table_name is None:
            raise RulesetError(f"{command} line {number}: rule or chain outside a table")
        elif line.startswith(":"):
            parts = line[1:].split()
            if not parts:
                raise RulesetError(f"{command} line {number}: a chain without a name")
            name = parts[0]
            policy_word = parts[1] if len(parts) > 1 else "-"
            base = policy_word != "-" and name in HOOKS
            policy = ("drop" if policy_word == "DROP" else "accept") if base else None
            declared[name] = (HOOKS[name] if base else None, policy)
            names.add(name)
        elif line.startswith(("-A ", "--append ")):
            try:
                tokens = split_line(line)
            except ValueError:
                raise RulesetError(f"{command} line {number}: unbalanced quotes") from None
            if len(tokens) < 2 or tokens[1] not in declared:
                raise RulesetError(f"{command} line {number}: rule in an undeclared chain")
            if tokens[-1] in _TAKES_VALUE or tokens[-1] == "!":
                # maybe an option without its value: read the rule now, so the error is here
                _built(command, family, names, memo, number, line, tokens)
            pending.setdefault(tokens[1], []).append((number, line, tokens))
            if table_name in ("nat", "mangle") and _rewrites(tokens):  # (TPROXY: mangle)
                rewrites.append(number)
    if table_name is not None:
        close()
        notes.append(f"{command}: table {table_name} has no COMMIT (a truncated dump?)")
    return Ruleset(tuple(tables), tuple(notes))
