"""v6gap.analysis."""
