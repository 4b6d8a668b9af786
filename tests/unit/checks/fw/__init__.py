"""Tests for checks/fw."""
