"""The words of an ``iptables-save`` line, as iptables-restore reads them."""

from __future__ import annotations


def _split_quotes(line: str) -> list[str]:
    """``split_line`` without backslashes: str.split does the work, not a loop per character."""
    if '"' not in line:
        return line.split()
    parts = line.split('"')
    if len(parts) % 2 == 0:
        raise ValueError("unbalanced quotes")
    words: list[str] = []
    glue = False  # the next piece continues the last word (no blank in between)
    for i, part in enumerate(parts):
        if i % 2:
            if glue:
                words[-1] += part
            else:
                words.append(part)
            glue = True
            continue
        if not part:
            continue
        pieces = part.split()
        if pieces and glue and not part[0].isspace():
            words[-1] += pieces.pop(0)
        words.extend(pieces)
        glue = not part[-1].isspace()
    return words


def split_line(line: str) -> list[str]:
    """The words of a save line: iptables-save double-quotes (``--comment "a b"``) with
    backslash escapes; ``ValueError`` on an unbalanced quote. Linear, and faster than shlex."""
    if "\\" not in line:
        return _split_quotes(line)
    words: list[str] = []
    word: list[str] = []
    started = quoted = escaped = False
    for char in line:
        if escaped:
            word.append(char)
            escaped = False
        elif char == "\\":
            escaped = started = True
        elif char == '"':
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(char)
            started = True
    if quoted or escaped:
        raise ValueError("unbalanced quotes")
    if started:
        words.append("".join(word))
    return words
