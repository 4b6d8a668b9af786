"""Writing results: to stdout, or atomically to a file (nothing half-written on failure)."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Optional, Union

from v6gap.errors import InputError


def write_output(data: Union[str, bytes], path: Optional[str]) -> None:
    raw = data.encode() if isinstance(data, str) else data
    if path is None or path == "-":
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".v6gap-", dir=directory)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
