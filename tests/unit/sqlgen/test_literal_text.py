"""sqlgen/literals.py `sql_literal`: its shortcut for readable strings writes what rendering
the literal node writes, and every other string still takes the node's way."""

from __future__ import annotations

import random
import string

from generator.sqlgen.literals import PIECE, literal_node, sql_literal


def test_readable_strings_are_written_as_their_node_renders():
    rng = random.Random(12)
    samples = ["", "error", "6f1c3a52-0b7e-4d7a-9a51-3c2f1d0e9b11", "x" * (2 * PIECE), "x" * (2 * PIECE + 1)]
    samples += [
        "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 120))) for _ in range(2000)
    ]
    samples += ["it's", "back\\slash", "tab\there", "é", "a\nb", "`tick`", '"double"', "$(id)", "%s"]
    for text in samples:
        for hex_text in (False, True):
            assert sql_literal(text, hex_text=hex_text) == literal_node(text, hex_text=hex_text).sql(
                dialect="mysql"
            ), (text, hex_text)
