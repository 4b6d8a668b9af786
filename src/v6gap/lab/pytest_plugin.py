"""pytest fixtures for lab tests: ``lab_factory`` and ``lab``; every lab is torn down.

Use from a conftest (``from v6gap.lab.pytest_plugin import lab, lab_factory``) or as a plugin
(``pytest_plugins = ["v6gap.lab.pytest_plugin"]`` in the top conftest). A missing prerequisite
(not root, a tool missing) fails the test loudly: lab tests never skip.

    @pytest.mark.lab
    def test_ping(lab_factory):
        lab = lab_factory(scenarios.pair())
        assert lab.ping("client", lab.addr("server", 6))

    @pytest.mark.lab
    @pytest.mark.parametrize("lab", ["routed"], indirect=True)
    def test_routed(lab): ...
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from typing import Callable, Iterator, List, Optional

import pytest

from v6gap.lab.build import Lab
from v6gap.lab.scenario import Scenario

LabFactory = Callable[..., Lab]

REQUIRED_TOOLS = ("ip", "nft", "ping", "sysctl", "ss")
_counter = itertools.count()


def check_lab_prerequisites() -> None:
    """Fail (never skip) when this machine cannot run lab tests, saying why."""
    if os.geteuid() != 0:
        pytest.fail("lab tests need root (network namespaces); run them as root", pytrace=False)
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"lab tests need {', '.join(missing)} (packages iproute2, nftables, iputils-ping, "
            "procps)",
            pytrace=False,
        )


def unique_suffix() -> str:
    """A lab id no other test or parallel run will pick: random, plus a per-process counter."""
    return f"{secrets.token_hex(3)}{next(_counter) % 1000}"


@pytest.fixture
def lab_factory() -> Iterator[LabFactory]:
    """``make(scenario, suffix=None) -> Lab``: built now, torn down after the test."""
    check_lab_prerequisites()
    made: List[Lab] = []

    def make(scenario: Scenario, suffix: Optional[str] = None) -> Lab:
        built = Lab(scenario, suffix=suffix or unique_suffix())
        made.append(built)
        return built.up()

    try:
        yield make
    finally:
        problems = [p for built in reversed(made) for p in built.down(raising=False).problems]
        if problems:
            pytest.fail(f"lab teardown failed: {'; '.join(problems)}", pytrace=False)


@pytest.fixture
def lab(request: pytest.FixtureRequest, lab_factory: LabFactory) -> Lab:
    """The ``basic`` lab, or the built-in scenario named by indirect parametrization."""
    from v6gap.lab import scenarios

    name = getattr(request, "param", "basic")
    return lab_factory(scenarios.get(name))
