"""The one door to the system: every collector reads files and runs tools through a ``Host``.

Kept on the standard library (Python 3.9+) so the fleet mode can ship ``collect/`` to other hosts.
"""

from __future__ import annotations

import os
import subprocess
from typing import List, Optional, Tuple

MAX_FILE_BYTES = 4 << 20  # a config or /proc file bigger than this is not one we want
MAX_OUTPUT_BYTES = 256 << 20  # nft -j on 200k rules is ~100 MB
_CHUNK = 64 << 10


class Host:
    """Reads a live system, a network namespace's view of it, or a tree under ``root``.

    ``root``: paths are resolved inside this directory, symlinks included, never escaping it.
    ``etc_overlay``: a directory whose files replace ``/etc/<same name>`` (``/etc/netns/NAME``),
    as ``ip netns exec`` does by bind mounts.
    """

    def __init__(self, root: str = "/", etc_overlay: Optional[str] = None) -> None:
        self.root = os.path.abspath(root)
        self.etc_overlay = etc_overlay

    @property
    def is_image(self) -> bool:
        return self.root != "/"

    def resolve(self, path: str) -> str:
        """Map an absolute path of the target to a path on this machine."""
        if self.etc_overlay and (path == "/etc" or path.startswith("/etc/")):
            rest = path[len("/etc/") :] if path != "/etc" else ""
            first = rest.split("/", 1)[0]
            if first and os.path.lexists(os.path.join(self.etc_overlay, first)):
                return os.path.join(self.etc_overlay, rest)
        if not self.is_image:
            return path
        return _resolve_in_root(self.root, path)

    def read_text(self, path: str, limit: int = MAX_FILE_BYTES) -> str:
        """File contents as text; raises ``OSError`` (or ``ValueError`` when over ``limit``)."""
        return self.read_bytes(path, limit).decode("utf-8", errors="replace")

    def read_bytes(self, path: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """File contents; raises ``OSError`` (or ``ValueError`` when over ``limit``).

        Read in small chunks: /proc/sys allocates a kernel buffer of the size asked for in one
        read() and fails with ENOMEM for large requests.
        """
        chunks: List[bytes] = []
        total = 0
        with open(self.resolve(path), "rb") as fh:
            while True:
                chunk = fh.read(min(_CHUNK, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    raise ValueError(f"larger than {limit} bytes")
        return b"".join(chunks)

    def readlink(self, path: str) -> Optional[str]:
        """The target of a symlink as written, or None when ``path`` is not a symlink."""
        real = self._lexical(path)
        try:
            return os.readlink(real)
        except OSError:
            return None

    def listdir(self, path: str) -> List[str]:
        return sorted(os.listdir(self.resolve(path)))

    def exists(self, path: str) -> bool:
        return os.path.exists(self.resolve(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(self.resolve(path))

    def run(self, argv: List[str], timeout: float = 20.0) -> Tuple[int, str, str]:
        """Run a tool of the live system (never inside an image): (status, stdout, stderr).

        Raises ``FileNotFoundError`` when the tool is missing.
        """
        if self.is_image:
            raise FileNotFoundError(f"{argv[0]}: not run against an image")
        proc = subprocess.run(  # argument list, never a shell
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
        )
        out = proc.stdout[:MAX_OUTPUT_BYTES].decode("utf-8", errors="replace")
        return proc.returncode, out, proc.stderr.decode("utf-8", errors="replace").strip()

    def _lexical(self, path: str) -> str:
        """Like ``resolve`` but without following the last component (for readlink)."""
        parent, name = os.path.split(path)
        return os.path.join(self.resolve(parent) if parent else parent, name)


def _resolve_in_root(root: str, path: str, _depth: int = 0) -> str:
    """Resolve ``path`` component by component inside ``root``; absolute links stay inside."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    current = root
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = os.path.dirname(current) if current != root else root
            if not current.startswith(root):
                current = root
            continue
        candidate = os.path.join(current, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise OSError(f"{path}: too many levels of symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                current = root
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        current = candidate
    return current
