"""``python -m v6gap``."""

from v6gap.cli.main import main

main()
