"""Databases made between releases, brought to the schema their migrations promise.

Some migrations were edited after they were first committed (columns added to a
``CREATE TABLE``, a table added to a script): a database made before such an edit is
marked as having applied the migration but lacks what was added. Before each pending
migration, and after the last, the store compares the database with a reference (every
migration up to that point applied to an empty database) and adds what is missing:
tables, columns (with their defaults) and indexes. Nothing is ever dropped or changed.
Migrations committed from now on are never edited (``tests/test_upgrades.py`` pins
them), so this only ever has the old edits to make up for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

SQLITE_INTERNAL = ("sqlite_", "schema_migrations")


@dataclass
class Shape:
    """A database's tables (with each column's declaration) and indexes."""

    tables: dict[str, str] = field(default_factory=dict)  # name → CREATE TABLE
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table → column → decl
    indexes: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (table, SQL)


def sqlite_shape(read: Callable[[str], Sequence[tuple[object, ...]]]) -> Shape:
    """The shape of an SQLite database, read through ``read(sql) → rows``."""
    shape = Shape()
    for row in read("SELECT name, type, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"):
        name, kind, table, sql = (str(value) for value in row)
        if name.startswith(SQLITE_INTERNAL):
            continue
        if kind == "table":
            shape.tables[name] = sql
        elif kind == "index":
            shape.indexes[name] = (table, sql)
    for table in shape.tables:
        declared: dict[str, str] = {}
        for _, column, declared_type, not_null, default, _ in read(f'PRAGMA table_info("{table}")'):
            declaration = f'"{column}" {declared_type or ""}'.rstrip()
            if default is not None:
                declaration += f" DEFAULT {default}"
                if not_null:
                    declaration += " NOT NULL"
            declared[str(column)] = declaration
        shape.columns[table] = declared
    return shape


def sqlite_reference(
    scripts: Sequence[str], functions: dict[str, Callable[[object], int]]
) -> Shape:
    """The shape every one of ``scripts`` gives an empty database."""
    reference = sqlite3.connect(":memory:")
    try:
        for name, function in functions.items():
            reference.create_function(name, 1, function, deterministic=True)
        for script in scripts:
            reference.executescript(script)
        return sqlite_shape(lambda sql: reference.execute(sql).fetchall())
    finally:
        reference.close()


def missing(database: Shape, reference: Shape) -> list[str]:
    """The statements that add to ``database`` what ``reference`` has and it lacks."""
    statements = [sql for name, sql in reference.tables.items() if name not in database.tables]
    for table, columns in reference.columns.items():
        if table not in database.tables:
            continue
        have = database.columns.get(table, {})
        statements += [
            f'ALTER TABLE "{table}" ADD COLUMN {declaration}'
            for column, declaration in columns.items()
            if column not in have
        ]
    statements += [
        sql for name, (table, sql) in reference.indexes.items() if name not in database.indexes
    ]
    return statements
