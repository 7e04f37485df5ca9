"""One home for every measured figure: docs/FIGURES.md, written by the commands that measure.

Each measuring command (`make eval`, `make bench`, `make bench-gateway`, the question-count benchmark…)
calls `record(section, body)`; the section is replaced in place between its markers and stamped with
the date, the machine's cores and load, and the command that produced it. READMEs link to the file
instead of pasting numbers that go stale. Sections no command has written yet are simply absent.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "FIGURES.md"
HEADER = (
    "# Measured figures\n\n"
    "Generated: each section is rewritten by the command named under it (`scripts/figures.py`); "
    "do not edit by hand. Figures are from the last run of that command on the machine stated.\n"
)
_SECTION = re.compile(r"<!-- BEGIN (?P<name>[\w-]+) -->\n.*?<!-- END (?P=name) -->\n", re.S)


def machine_line() -> str:
    """Where and when a figure was measured: it means little without the cores and the load."""
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{now}; {os.cpu_count()} cores, load average {load}"


def render_section(name: str, title: str, body: str, command: str) -> str:
    return (
        f"<!-- BEGIN {name} -->\n## {title}\n\n{body.strip()}\n\n"
        f"_Measured {machine_line()} by `{command}`._\n<!-- END {name} -->\n"
    )


def replace_section(document: str, name: str, section: str) -> str:
    """``document`` with section ``name`` replaced by ``section`` (appended when it is new)."""
    sections = {m.group("name"): m.group(0) for m in _SECTION.finditer(document)}
    sections[name] = section
    return HEADER + "\n" + "\n".join(sections[key] for key in sorted(sections))


def record(name: str, title: str, body: str, command: str | None = None, path: Path = FIGURES) -> None:
    """Write one section of the figures file (Markdown ``body``), keeping every other section."""
    command = command or " ".join(shlex.quote(arg) for arg in [Path(sys.argv[0]).name, *sys.argv[1:]])
    document = path.read_text(encoding="utf-8") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        replace_section(document, name, render_section(name, title, body, command)), encoding="utf-8"
    )


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


class _Tee(io.TextIOBase):
    def __init__(self, *streams: io.TextIOBase) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def printed_into(name: str, title: str, command: str | None = None, path: Path = FIGURES) -> Iterator[None]:
    """Everything printed inside the block still reaches the terminal and also becomes section ``name``
    (as text), so a benchmark's report and the figures file can never say different things."""
    captured = io.StringIO()
    original = sys.stdout
    sys.stdout = _Tee(original, captured)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout = original
    record(name, title, "```text\n" + captured.getvalue().rstrip() + "\n```", command, path)
