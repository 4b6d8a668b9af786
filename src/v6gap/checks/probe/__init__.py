"""V6G-PROBE-* checks: judged from what packets showed (a ``ProbeEvidence``), not a snapshot.

They are not in the host catalogue (``registry.all_checks``): ``v6gap probe`` reports them, and
``v6gap audit --probe-from-netns`` adds them to a host's report (``registry.probe_checks``).
"""

from v6gap.checks.probe._evidence import ProbeEvidence

__all__ = ["ProbeEvidence"]
