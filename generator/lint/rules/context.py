"""What a structural rule sees: one generated SQL file, parsed."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from generator.lint.report import Finding
from generator.lint.shapes import Statement
from generator.schema.model import SchemaSnapshot

# Statements that change data or transaction state: parsed into sqlglot trees.
# Everything else (SET @var, guard SELECTs) is classified by its first words —
# sqlfluff parses every statement shape anyway — which keeps lint cheap.
PARSED_KEYWORDS = frozenset(
    {
        "UPDATE",
        "DELETE",
        "INSERT",
        "REPLACE",
        "START",
        "COMMIT",
        "ROLLBACK",
        "BEGIN",
        "CREATE",
        "DROP",
        "ALTER",
        "TRUNCATE",
        "RENAME",
        "LOCK",
        "UNLOCK",
        "GRANT",
        "REVOKE",
        "LOAD",
        "CALL",
        "DO",
        "HANDLER",
        "FLUSH",
    }
)


@dataclass(frozen=True)
class ParsedStatement:
    statement: Statement
    tree: exp.Expr | None  # None for unparsed (SET/SELECT) or unparseable statements
    keyword: str = ""
    skeleton: str = ""  # literals abstracted: equal skeletons have equal trees (shared, never mutate)

    @property
    def is_guard(self) -> bool:
        return self.keyword == "SELECT" and "AS `guard`" in " ".join(self.statement.text.split())


@dataclass(frozen=True)
class SqlFileContext:
    path: str
    text: str
    role: str | None
    schema: SchemaSnapshot | None
    target_ids: tuple[str, ...]
    statements: tuple[ParsedStatement, ...]
    max_line_length: int
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # per lint run, across files

    def finding(self, code: str, line: int, message: str) -> Finding:
        return Finding("fixpack", code, self.path, line, message)


def main_table(tree: exp.Expr) -> str | None:
    target = tree.this if isinstance(tree, exp.Update | exp.Delete | exp.Insert) else None
    if isinstance(target, exp.Schema):
        target = target.this
    return target.name if isinstance(target, exp.Table) else None
