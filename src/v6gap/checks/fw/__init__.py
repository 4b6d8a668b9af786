"""V6G-FW-* checks: one module per check, each exposing CHECK."""
