"""v6gap: find and close the gap between a Linux host's IPv4 and IPv6 security."""

__version__ = "0.1.0"
