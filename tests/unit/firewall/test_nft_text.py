"""nft ruleset text files: read by the real nft in a private network namespace, never loaded on
the host, each rule traced to its file and line, includes kept inside the allowed directories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.firewall.rulesets import FIXTURES
from v6gap.errors import RulesetError
from v6gap.firewall._nft_source import expand_includes, rule_lines
from v6gap.firewall.model import Ruleset
from v6gap.firewall.nft import read_nft
from v6gap.firewall.nft_text import looks_like_json, read_nft_text, text_to_json
from v6gap.firewall.parity import explain, parity

SOURCES = FIXTURES / "sources"
# recorded case -> the one nft text file record.py loaded for it
TEXT_CASES = {
    "inet-policy-drop": "inet-policy-drop.nft",
    "inet-accept-final-reject": "inet-accept-final-reject.nft",
    "ip-only-drop": "ip-only-drop.nft",
    "seed-option2": "seed-option2-with-ra-guard.nft",
    "kube-proxy-nft-ip6": "nftables-nodeport-svc__nft-ip6.nft",
}


def _host_ruleset() -> str:
    return subprocess.run(
        ["nft", "list", "ruleset"], capture_output=True, text=True, check=True
    ).stdout


def _bodies(ruleset: Ruleset) -> list[tuple[object, ...]]:
    """Everything about each rule but where it came from."""
    return [
        (t.family, t.name, c.name, c.hook, c.policy, r.matches, r.verdict, r.limit)
        for t in ruleset.tables
        for c in t.chains
        for r in c.rules
    ]


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_text_reads_as_the_recorded_json_and_leaves_the_host_alone(case: str) -> None:
    before = _host_ruleset()
    from_text = read_nft_text(str(SOURCES / TEXT_CASES[case]))
    recorded = read_nft((FIXTURES / case / "nft.json").read_text())
    assert _host_ruleset() == before
    assert _bodies(from_text) == _bodies(recorded)
    verdicts = [(d.proto, d.from_port, d.to_port, d.ipv4, d.ipv6) for d in parity(from_text)]
    assert verdicts == [(d.proto, d.from_port, d.to_port, d.ipv4, d.ipv6) for d in parity(recorded)]


def test_seed_traces_name_the_file_and_line() -> None:
    path = SOURCES / "seed-option2-with-ra-guard.nft"
    lines = path.read_text().splitlines()
    ruleset = read_nft_text(str(path))
    assert ruleset.notes == ()
    drop = explain(ruleset, "ipv4", 6, 8080, None, None, None)
    assert drop.verdict == "drop"
    where = drop.trace[-1]
    assert where.startswith(f"{path}: line 81: inet filter chain input handle ")
    assert lines[80].strip() == "drop"
    ra = explain(ruleset, "ipv6", 58, None, 134, None, None)
    assert ra.verdict == "conditional"
    assert ra.trace[0].startswith(f"{path}: line 53: ")
    assert "nd-router-advert" in lines[52]
    # Every rule of every chain has a line, and the line holds the start of a rule.
    for table in ruleset.tables:
        for chain in table.chains:
            for rule in chain.rules:
                number = int(rule.origin.ref.split(":")[0].removeprefix("line "))
                text = lines[number - 1].strip()
                assert text and not text.startswith(("#", "type", "}", "chain", "table"))


def test_includes_resolve_inside_the_directory_and_map_lines(tmp_path: Path) -> None:
    (tmp_path / "rules.d").mkdir()
    (tmp_path / "rules.d" / "10-icmp.nft").write_text("meta l4proto ipv6-icmp accept\n")
    (tmp_path / "rules.d" / "20-ssh.nft").write_text("\ntcp dport 22 accept\n")
    main = tmp_path / "main.nft"
    main.write_text(
        "table inet f {\n"
        "  chain input {\n"
        "    type filter hook input priority 0; policy drop;\n"
        '    include "rules.d/*.nft"\n'
        "    udp dport { 546,\n"
        "      547 } accept\n"
        "  }\n"
        "}\n"
        "add rule inet f input tcp dport 80 drop\n"
    )
    ruleset = read_nft_text(str(main))
    origins = [
        (r.origin.source, r.origin.ref.split(":")[0]) for r in ruleset.tables[0].chains[0].rules
    ]
    assert origins == [
        (str(tmp_path / "rules.d" / "10-icmp.nft"), "line 1"),
        (str(tmp_path / "rules.d" / "20-ssh.nft"), "line 2"),
        (str(main), "line 5"),
        (str(main), "line 9"),
    ]
    assert explain(ruleset, "ipv6", 6, 22, None, None, None).verdict == "accept"


def test_includes_outside_the_directory_are_refused_unless_allowed(tmp_path: Path) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    (outside / "x.nft").write_text("table ip t { chain c { tcp dport 1 drop; }; }\n")
    main = inside / "main.nft"
    for reference in (str(outside / "x.nft"), "../out/x.nft", "link.nft"):
        (inside / "link.nft").unlink(missing_ok=True)
        (inside / "link.nft").symlink_to(outside / "x.nft")
        main.write_text(f'include "{reference}"\n')
        with pytest.raises(RulesetError, match=r"main.nft:1: include .* outside .*--include-dir"):
            read_nft_text(str(main))
    allowed = read_nft_text(str(main), [str(outside)])
    assert [t.name for t in allowed.tables] == ["t"]
    main.write_text('include "absent.nft"\n')
    with pytest.raises(RulesetError, match=r'main\.nft:1: include "absent\.nft": no such file'):
        read_nft_text(str(main))
    main.write_text('include "main.nft"\n')
    with pytest.raises(RulesetError, match="nested deeper than 16"):
        read_nft_text(str(main))


def test_nft_errors_are_one_line_at_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "part.nft").write_text(
        "table inet x {\n  chain y {\n    tcp dport foo bar accept\n"
    )
    main = tmp_path / "main.nft"
    main.write_text('# a comment\ninclude "part.nft"\n  }\n}\n')
    with pytest.raises(RulesetError) as caught:
        read_nft_text(str(main))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'part.nft'}:3: Error: ")
    assert "\n" not in message
    main.write_text("table inet x { chain y { jump nowhere; }; }\n")
    with pytest.raises(RulesetError, match=r"main.nft:1: Error: Could not process rule"):
        text_to_json(str(main))


def test_reordering_commands_fall_back_to_handles(tmp_path: Path) -> None:
    main = tmp_path / "main.nft"
    main.write_text(
        "table inet f { chain input { type filter hook input priority 0; tcp dport 1 drop; }; }\n"
        "insert rule inet f input tcp dport 2 drop\n"
    )
    ruleset = read_nft_text(str(main))
    assert all(not r.origin.ref.startswith("line ") for r in ruleset.tables[0].chains[0].rules)
    assert any("inserts, replaces or deletes" in n for n in ruleset.notes)


def test_rule_lines_of_tricky_text() -> None:
    text = (
        "define ports = { 22,\n 80 }\n"  # 1-2: braces outside any chain
        "table inet f {\n"  # 3
        "  set s { type ipv4_addr; elements = { 192.0.2.1,\n 192.0.2.2 } }\n"  # 4-5
        '  chain "in" {\n'  # 6
        "    type filter hook input priority 0; policy drop;  # a } in a comment\n"  # 7
        '    tcp dport $ports accept comment "a { brace"; udp dport 53 \\\n'  # 8
        "      accept\n"  # 9
        "    ip saddr @s vmap { 192.0.2.1 : accept,\n 192.0.2.2 : drop }\n"  # 10-11
        "  }\n"  # 12
        "  chain c { counter; }\n"  # 13
        "}\n"
        "add rule inet f c drop\n"  # 15
        "table filter { chain x { accept; } }\n"  # 16: family ip by default
    )
    assert rule_lines(text) == {
        ("inet", "f", "in"): [8, 8, 10],
        ("inet", "f", "c"): [13, 15],
        ("ip", "filter", "x"): [16],
    }
    assert rule_lines("flush ruleset\ntable ip t { chain c { accept; } }\n") is not None
    assert rule_lines("table ip t { chain c { accept; } }\nflush chain ip t c\n") is None
    assert rule_lines("add rule ip t c position 3 accept\n") is None


def test_expanded_text_keeps_each_lines_origin(tmp_path: Path) -> None:
    (tmp_path / "a.nft").write_text("one\ntwo\n")
    main = tmp_path / "main.nft"
    main.write_text('x; include "a.nft"; y\nz\n')
    expanded = expand_includes(str(main))
    rows = expanded.text.splitlines()
    assert [(rows[i], expanded.where(i + 1)) for i in range(len(rows)) if rows[i].strip()] == [
        ("x; ", (str(main), 1)),
        ("one", (str(tmp_path / "a.nft"), 1)),
        ("two", (str(tmp_path / "a.nft"), 2)),
        ("; y", (str(main), 1)),
        ("z", (str(main), 2)),
    ]


def test_json_or_text() -> None:
    assert looks_like_json(' \n{"nftables": []}')
    assert not looks_like_json("table inet f {}")
    assert json.loads(text_to_json(str(SOURCES / "ip-only-drop.nft")))["nftables"]


def test_text_size_is_bounded_across_includes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from v6gap.firewall import _nft_source

    (tmp_path / "part.nft").write_text("# " + "x" * 80 + "\n")
    main = tmp_path / "main.nft"
    main.write_text('include "part.nft"\ninclude "part.nft"\n')
    monkeypatch.setattr(_nft_source, "MAX_TEXT_CHARS", 150)
    with pytest.raises(RulesetError, match=r"part\.nft: nft ruleset text larger than"):
        read_nft_text(str(main))


def test_cli_exits_2_with_nft_s_message_on_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nft"
    bad.write_text("table inet x {\n  chain y {\n    tcp dport foo bar accept\n  }\n}\n")
    done = subprocess.run(
        [sys.executable, "-m", "v6gap", "firewall", "parity", "--nft", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"v6gap: error: {bad}:3: Error: syntax error, unexpected accept"
    ]


def test_monitor_is_refused_before_nft_runs(tmp_path: Path) -> None:
    main = tmp_path / "main.nft"
    main.write_text("table inet f { chain c { accept; }; }\n  monitor\n")
    with pytest.raises(RulesetError, match=r"main\.nft:2: `monitor` is not a ruleset"):
        read_nft_text(str(main))


def test_real_tools_nft_list_output_reads_back() -> None:
    real = FIXTURES / "real-tools"
    # firewalld's `nft list ruleset`, read as text, is its recorded JSON, every rule on its line.
    text = real / "firewalld-default" / "nft.txt"
    from_text = read_nft_text(str(text))
    assert from_text.notes == ()
    assert _bodies(from_text) == _bodies(
        read_nft((real / "firewalld-default" / "nft.json").read_text())
    )
    lines = text.read_text().splitlines()
    for table in from_text.tables:
        for chain in table.chains:
            for rule in chain.rules:
                number = int(rule.origin.ref.split(":")[0].removeprefix("line "))
                assert lines[number - 1].startswith("\t\t"), (number, lines[number - 1])
    # ufw's tables were written by iptables-nft: nft itself cannot load its listing.
    with pytest.raises(RulesetError, match=r"nft\.txt:\d+: Error: unsupported xtables compat"):
        read_nft_text(str(real / "ufw-default" / "nft.txt"))


def test_errors_without_a_line_still_name_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child's own failures (here: no nft on PATH) come back as one line naming the file.
    main = tmp_path / "main.nft"
    main.write_text("table inet f { chain c { accept; }; }\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RulesetError) as caught:
        read_nft_text(str(main))
    assert str(caught.value) == f"{main}: nft is not installed (reading ruleset text needs it)"


def test_lint_of_a_text_file_reads_its_tables_as_nftables() -> None:
    from v6gap.analysis.firewall_presence import firewall_presence, read_dumps
    from v6gap.checks.lint import lint_snapshot
    from v6gap.model import Firewall

    path = str(SOURCES / "seed-option2-with-ra-guard.nft")
    snapshot = lint_snapshot(Firewall(), {}, "test")
    dumps = read_dumps(snapshot, read_nft_text(path))
    assert dumps.nft_read and dumps.nft_source == path
    presence = firewall_presence(snapshot, dumps)
    assert any(c.part == "nftables" and c.detail == f"read from {path}" for c in presence.coverage)
