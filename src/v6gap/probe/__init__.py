"""``v6gap probe``: reach a target's ports over IPv4 and IPv6 from outside and compare.

``ports`` and ``targets`` turn arguments into what to probe, ``engine`` probes (asyncio, TCP
connect and connected UDP), ``icmp`` pings, ``parity`` judges the families against each other
and ``run`` ties them together, in this process or from inside a lab namespace. ``diagnose``
tells an address that is broken at the link from one that is filtered, ``findings`` turns a run
into a v6gap report (sarif, junit) and ``progress`` draws the bar on a terminal.
"""
