"""Tests for analysis_fw."""
