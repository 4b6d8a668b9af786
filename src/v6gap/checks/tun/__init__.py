"""V6G-TUN-* checks: one module per check, each exposing CHECK."""
