"""Collectors: the only code that reads the system.

Each ``collect_<section>(host)`` module function returns a ``Partial``: the snapshot fields it
filled (plain JSON-able values, named exactly as in ``v6gap.model.Snapshot``) and the sections it
could not read, with the reason (``{"sockets": "sock_diag: permission denied (not root)"}``).
Parsing lives in pure ``parse_*`` functions beside them, tested on recorded output.

This package stays on the standard library (Python 3.9+): the fleet mode ships it to hosts that
have nothing installed. Netlink is spoken directly (``rtnl``): importing pyroute2 alone cost
120-190 ms, half of the snapshot's 0.3 s budget.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

Partial = Tuple[Dict[str, Any], Dict[str, str]]
