"""v6gap.checks."""
