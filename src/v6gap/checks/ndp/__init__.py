"""V6G-NDP-* checks: one module per check, each exposing CHECK."""
