"""v6gap.firewall."""
