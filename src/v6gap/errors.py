"""One exception tree; only the CLI turns these into messages and exit codes."""

from __future__ import annotations


class V6gapError(Exception):
    """Base of every error v6gap expects; ``str(err)`` is a one-line message for the user."""


class InputError(V6gapError):
    """Unusable input from the user or another host (a snapshot, a root tree, an argument)."""


class CollectError(V6gapError):
    """The collector could not run at all (a missing namespace, no /proc)."""


class RulesetError(InputError):
    """A firewall ruleset that cannot be read."""


class PolicyError(InputError):
    """A hardening policy that is not valid."""


class LabError(V6gapError):
    """The lab could not be built or torn down."""
