"""Tests for v6gap.analysis."""
