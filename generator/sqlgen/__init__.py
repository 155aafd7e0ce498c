"""The SQL toolkit every stage may import: dialect, literals, expression builders.

`dialect` renders sqlglot trees as the mysql client must receive them
(`to_sql`), `literals` is the one door a Python value takes into SQL, and
`builders` makes the few condition shapes every stage writes. Nothing here
imports another fixpack package, so ops, facts, review and render share it
without depending on each other.
"""
