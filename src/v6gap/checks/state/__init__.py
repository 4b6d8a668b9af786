"""V6G-STATE-* checks: one module per check, each exposing CHECK."""
