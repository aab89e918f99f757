"""One problem of an atelier folder, located in a file, a line and a field: what `atelier validate` prints."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.tables import located


@dataclass(frozen=True, order=True)
class Problem:
    """One problem, located in a file (and a line and field when known)."""

    file: str
    line: int | None
    field: str | None
    message: str
    warning: bool = False  # printed, but the atelier stays valid (exit code 0, the PDF is built)

    def __str__(self) -> str:
        return located(self.file, self.line, self.field, self.message)

    def github(self) -> str:
        """The problem as a GitHub Actions `::error` workflow command."""
        props = f"file={_escape_property(self.file)}"
        if self.line:
            props += f",line={self.line}"
        if self.field:
            props += f",title={_escape_property('champ « ' + self.field + ' »')}"
        where = f"ligne {self.line} : " if self.line else ""
        command = "warning" if self.warning else "error"
        return f"::{command} {props}::{_escape_data(where + self.message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
