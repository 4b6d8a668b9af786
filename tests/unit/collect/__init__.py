"""Tests for v6gap.collect."""
