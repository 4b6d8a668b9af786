"""The documents a user reads stay true to the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from v6gap.checks.registry import all_checks

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = {
    *(f"V6G-STATE-0{n}" for n in range(1, 6)),
    *(f"V6G-NDP-0{n}" for n in range(1, 8)),
    *(f"V6G-TUN-0{n}" for n in range(1, 5)),
    *(f"V6G-FW-{n:02d}" for n in range(1, 13)),
    *(f"V6G-EXP-0{n}" for n in range(1, 6)),
}


def test_every_catalogue_id_exists_once() -> None:
    ids = [c.meta.id for c in all_checks()]
    assert sorted(ids) == sorted(CATALOGUE)


def test_checks_doc_is_generated_from_the_registry() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_checks_doc.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert (ROOT / "docs" / "CHECKS.md").read_text(encoding="utf-8") == gen.render(), (
        "run: .venv/bin/python scripts/gen_checks_doc.py"
    )


def test_readme_shows_both_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make audit" in readme and "make test" in readme
