"""v6gap.cli."""
