"""FX004: every table and column a statement names exists in the bundle's recorded schema.

`tables_named()` is the cheap text-level half of this rule; the pipeline also
uses it to decide which tables a bundle's `data/schema.json` must record, so
`fixpack lint BUNDLE` can run this rule later against exactly that record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from sqlglot import exp

from generator.lint.report import Finding
from generator.lint.rules.context import SqlFileContext, main_table

CODE = "FX004"
_QUALIFIED = re.compile(r"`((?:[^`]|``)+)`\.`((?:[^`]|``)+)`")
_FROM = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+`((?:[^`]|``)+)`")
_STRING = re.compile(r"'(?:[^'\n]|'')*'")  # generated literals never span lines
_COMMENT = re.compile(r"^\s*--.*$", re.MULTILINE)  # comments hold prose with apostrophes
_ALIAS = re.compile(r"\)\s+AS\s+`((?:[^`]|``)+)`")
_INFO_SCHEMA = re.compile(r"`information_schema`\.`((?:[^`]|``)+)`")


def tables_named(text: str) -> set[str]:
    """Every table a generated SQL text names (fixpack backtick-quotes and qualifies everything)."""
    text = _STRING.sub("''", _COMMENT.sub("", text))
    named = set(_FROM.findall(text)) | {table for table, _ in _QUALIFIED.findall(text)}
    return named - _not_the_schema(text)


def _not_the_schema(text: str) -> set[str]:
    """Names a statement reads that are not tables of the database: information_schema (the identity
    guards) and derived-table aliases (`) AS `s``)."""
    names = set(_ALIAS.findall(text))
    if "`information_schema`." in text:
        names |= {"information_schema", *_INFO_SCHEMA.findall(text)}
    return names


def _text_references(ctx: SqlFileContext, text: str) -> Iterator[str]:
    """Unparsed statements: fixpack qualifies every column, so `t`.`c` names them all."""
    schema = ctx.schema
    assert schema is not None
    text = _STRING.sub("''", _COMMENT.sub("", text))
    skip = _not_the_schema(text)
    for table in _FROM.findall(text):
        if table not in skip and not schema.has_table(table):
            yield f"table {table} is not in the {ctx.role} schema"
    for table, column in _QUALIFIED.findall(text):
        if table in skip:
            continue
        if not schema.has_table(table):
            yield f"table {table} is not in the {ctx.role} schema"
        elif not schema.table(table).has_column(column):
            yield f"column {table}.{column} is not in the {ctx.role} schema"


def _tree_references(ctx: SqlFileContext, tree: exp.Expr) -> Iterator[str]:
    schema = ctx.schema
    assert schema is not None
    for table in tree.find_all(exp.Table):
        if table.name.upper() != "DUAL" and not schema.has_table(table.name):
            yield f"table {table.name} is not in the {ctx.role} schema"
    default = main_table(tree)
    insert = isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema)
    if insert and default and schema.has_table(default):
        for column in tree.this.expressions:
            if not schema.table(default).has_column(column.name):
                yield f"column {default}.{column.name} is not in the {ctx.role} schema"
    for column in tree.find_all(exp.Column):
        owner = column.table or default
        if owner and schema.has_table(owner) and not schema.table(owner).has_column(column.name):
            yield f"column {owner}.{column.name} is not in the {ctx.role} schema"


def check(ctx: SqlFileContext) -> Iterable[Finding]:
    if ctx.schema is None:
        return
    for parsed in ctx.statements:
        tree = parsed.tree
        if tree is None:
            found = list(dict.fromkeys(_text_references(ctx, parsed.statement.text)))
        else:  # a batch repeats a few skeletons thousands of times: check each once per schema
            key = (CODE, id(ctx.schema), parsed.skeleton)
            cached = ctx.memo.get(key) if parsed.skeleton else None
            found = cached if cached is not None else list(dict.fromkeys(_tree_references(ctx, tree)))
            if cached is None and parsed.skeleton:
                ctx.memo[key] = found
        for message in found:  # once per statement, in order
            yield ctx.finding(CODE, parsed.statement.line, message)
