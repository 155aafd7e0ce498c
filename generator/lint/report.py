"""Lint findings and the report recorded in a bundle's manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Finding:
    tool: str  # sqlfluff | fixpack | shellcheck
    code: str
    file: str
    line: int
    message: str

    def describe(self) -> str:
        """`file:line: CODE [tool] message` — the form editors and CI logs link."""
        return f"{self.file}:{self.line}: {self.code} [{self.tool}] {self.message}"


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    shapes: int = 0
    shapes_from_cache: int = 0
    tools: dict[str, str] = field(default_factory=dict)
    scripts: int = 0
    scripts_from_cache: int = 0
    scripts_checked: int = 0  # shellcheck runs: distinct uncached script shapes

    @property
    def passed(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "findings": [asdict(f) for f in self.findings],
            "files": list(self.files),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "sqlfluff_shapes": self.shapes,
            "sqlfluff_shapes_cached": self.shapes_from_cache,
            "shellcheck_scripts": self.scripts,
            "shellcheck_scripts_cached": self.scripts_from_cache,
            "shellcheck_runs": self.scripts_checked,
            "tools": self.tools,
        }
