"""Tests for checks/tun."""
