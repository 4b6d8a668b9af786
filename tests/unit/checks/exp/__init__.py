"""Tests for checks/exp."""
