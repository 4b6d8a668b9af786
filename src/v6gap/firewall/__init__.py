"""The firewall engine: one ruleset model, its readers, and verdicts for classes of packets.

* ``model``: the frozen ruleset model (tables, chains, rules as matches plus a verdict).
* ``nft.read_nft`` / ``iptables.read_save`` / ``sources.read_firewall`` and ``read_snapshot``:
  readers (nft JSON; iptables-save text; both combined as a host shows them).
* ``evaluate.judge``: the verdict for a ``PacketClass`` on the input path (prerouting, then
  input) or the forward path, with its rule trace; ``_match_class`` judges single matches.
* ``parity.parity`` / ``parity.explain``: whole-space differences between IPv4 and IPv6, and the
  verdict for one description of a new connection.

Nothing is imported here, so ``import v6gap.firewall`` stays cheap for the CLI.
"""
