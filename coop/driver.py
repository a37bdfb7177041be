"""Statements run straight on the database driver, for the paths every claim and submit takes.

On those paths SQLAlchemy's own work per execution (compiled-cache lookup, result set-up, ORM
loading) cost more CPU than the database spent answering. A `DriverStatement` is still built
with SQLAlchemy from the models, compiled once per dialect, and then handed to the driver as it
is. It runs in the session's transaction and keeps what the rest of the code relies on:
pending changes are flushed first, as a query would; the engine's `before_cursor_execute`
listeners hear it; the driver's errors become SQLAlchemy's (a lost connection invalidated), so
the unit of work tells races, busy locks and outages apart exactly as before; and each column's
type reads its value back (so UTC timestamps come back aware).
"""

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from coop.extensions import db

M = TypeVar("M")


_REQUIRED = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per bound value: the key callers pass, the name in the SQL, its fixed value (literals), its type's writer.
    binds: tuple[tuple[str, str, Any, Callable | None], ...]
    # The SQL names in the order a positional statement takes them; None for named ones.
    order: tuple[str, ...] | None
    readers: tuple[tuple[int, Callable], ...]
    # A psycopg cursor class taking PostgreSQL's own $n placeholders, when the SQL was written with them.
    cursor_class: Any = None


_PYFORMAT = re.compile(r"%%|%\(([^)]+)\)s")


def _native_placeholders(sql: str) -> tuple[str, tuple[str, ...]]:
    """`%(name)s` placeholders as PostgreSQL's `$n`, and the names in that order.

    psycopg parses every statement's placeholders on each run and caches that work only for
    statements under 4 kB, which the claim and submit are not; with `$n` it has nothing to parse.
    """
    order: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) is None:
            return "%"
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    return _PYFORMAT.sub(number, sql), tuple(order)


class DriverStatement:
    """A Core statement that returns rows, compiled once per dialect and run on the session's own connection."""

    def __init__(self, statement: Any):
        self.statement = statement
        self.keys = tuple(column.key for column in statement.exported_columns)
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect)
        binds = []
        for bind, name in compiled.bind_names.items():
            if bind.expanding or bind.literal_execute:
                raise ValueError(f"{bind.key}: a driver statement takes no IN-list parameters; bind an array.")
            writer = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((bind.key, name, _REQUIRED if bind.required else bind.effective_value, writer))
        readers = []
        for index, column in enumerate(self.statement.exported_columns):
            reader = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if reader is not None:
                readers.append((index, reader))
        sql, order, cursor_class = compiled.string, None, None
        if compiled.positional:
            order = tuple(compiled.positiontup)
        elif dialect.driver == "psycopg":
            import psycopg

            sql, order = _native_placeholders(sql)
            cursor_class = psycopg.RawCursor
        found = _Compiled(sql, tuple(binds), order, tuple(readers), cursor_class)
        self._compiled[dialect.name] = found
        return found

    def prepare(self, dialect: sa.Dialect) -> None:
        """Compile for `dialect` now, so the first run does not pay for it."""
        if dialect.name not in self._compiled:
            self._compile(dialect)

    def is_prepared(self, dialect: sa.Dialect) -> bool:
        return dialect.name in self._compiled

    def all(self, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """Every row, as tuples in the order of `keys`."""
        session = db.session()
        if session.autoflush:
            session.flush()
        conn = session.connection()
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        given = params or {}
        named = {}
        for key, name, fixed, writer in compiled.binds:
            value = given.get(key, fixed)
            if value is _REQUIRED:
                raise KeyError(f"The statement needs a value for {key!r}.")
            named[name] = writer(value) if writer is not None and value is not None else value
        arguments: Any = named if compiled.order is None else [named[name] for name in compiled.order]
        dbapi_connection: Any = conn.connection.dbapi_connection
        cursor = dbapi_connection.cursor() if compiled.cursor_class is None else compiled.cursor_class(dbapi_connection)
        try:
            for listener in conn.dispatch.before_cursor_execute:
                listener(conn, cursor, compiled.sql, arguments, None, False)
            try:
                cursor.execute(compiled.sql, arguments)
                rows = cursor.fetchall()
            except dialect.loaded_dbapi.Error as exc:
                lost = dialect.is_disconnect(exc, dbapi_connection, cursor)
                if lost:
                    conn.invalidate(exc)
                raise sa.exc.DBAPIError.instance(
                    compiled.sql,
                    arguments,
                    exc,
                    dialect.loaded_dbapi.Error,
                    connection_invalidated=lost,
                    dialect=dialect,
                ) from exc
        finally:
            cursor.close()
        if not compiled.readers:
            return rows
        read = []
        for row in rows:
            values = list(row)
            for index, reader in compiled.readers:
                values[index] = reader(values[index])
            read.append(tuple(values))
        return read

    def first(self, params: Mapping[str, Any] | None = None) -> tuple | None:
        """The first row, or None."""
        rows = self.all(params)
        return rows[0] if rows else None

    def first_mapping(self, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The first row as a dict by column key, or None."""
        row = self.first(params)
        return None if row is None else dict(zip(self.keys, row, strict=True))


# --- ORM objects without the ORM's loading ----------------------------------------------------


@functools.cache
def _shape(model: Any) -> tuple[Any, tuple[tuple[str, str], ...], tuple[str, ...]]:
    mapper: Any = sa.inspect(model)
    columns = tuple((attr.key, attr.columns[0].name) for attr in mapper.column_attrs)
    return mapper, columns, tuple(mapper.get_property_by_column(col).key for col in mapper.primary_key)


def as_loaded(model: type[M], row: Mapping[Any, Any]) -> M:
    """An instance of `model` for a row just read or written (values by column name), in the session without a query.

    Its values came from the database, so it is persistent and clean: no INSERT, no reload.
    One the session already holds takes the values just read instead.
    """
    mapper, columns, primary_key = _shape(cast(Any, model))
    values = {key: row[name] for key, name in columns}
    identity = mapper.identity_key_from_primary_key([values[k] for k in primary_key])
    session = db.session()
    known = session.identity_map.get(identity)
    if known is not None:
        for key, value in values.items():
            set_committed_value(known, key, value)
        return known
    obj = mapper.class_manager.new_instance()
    # Loaded values live in the instance's dict, with no history: exactly where the ORM's own loading puts them.
    obj.__dict__.update(values)
    state: Any = instance_state(obj)
    state.key = identity
    # What Session.add does for a detached object, without walking the mapper's cascades: an
    # object made from one row has no related objects loaded to cascade to, and that walk
    # cost more than the rest of the sign-in's loading.
    session._update_impl(state)
    return obj


_EAGER = {"joined", "selectin", "subquery", "immediate"}


@functools.cache
def _by_id(model: Any, lock: bool) -> DriverStatement | None:
    """The driver statement loading one `model` by id; None for models the ORM must load itself."""
    mapper: Any = sa.inspect(model)
    table = mapper.local_table
    plain = (
        mapper.inherits is None
        and mapper.polymorphic_on is None
        and len(mapper.primary_key) == 1
        and not any(rel.lazy in _EAGER for rel in mapper.relationships)
        and all(attr.columns[0].table is table for attr in mapper.column_attrs)
    )
    if not plain:
        return None
    stmt = sa.select(*(column.label(column.name) for column in table.c)).where(
        mapper.primary_key[0] == sa.bindparam("object_id", type_=mapper.primary_key[0].type)
    )
    return DriverStatement(stmt.with_for_update() if lock else stmt)


def get(model: type[M], object_id: Any, lock: bool = False) -> M | None:
    """`session.get` at the driver's speed for plain models (no eager relationships); the ORM's own get otherwise.

    `lock` takes the row lock (FOR UPDATE on PostgreSQL). An object the session already holds is
    left to the ORM, which knows whether it must be read again.
    """
    statement = _by_id(cast(Any, model), lock)
    if statement is not None:
        mapper, _columns, _primary_key = _shape(cast(Any, model))
        if db.session.identity_map.get(mapper.identity_key_from_primary_key([object_id])) is None:
            row = statement.first_mapping({"object_id": object_id})
            return None if row is None else as_loaded(model, row)
    return db.session.get(model, object_id, with_for_update=lock or None)
