"""V6G-EXP-* checks: one module per check, each exposing CHECK."""
