"""
Queries compiled once.

The ORM builds and compiles a query afresh every time it runs one. For the small queries of
an uncached feed or search, that is about 1 ms of Python each: several times what the
database takes to answer them. A query whose SQL never changes, only its values (the time
now, an id, a word), is built and compiled here once for each process, with stand-in values;
each run then sends that SQL with its own values in the stand-ins' places.

The query is still written with the ORM (and the models' rule for live); only the
compiling is kept. Values are bound as parameters, never written into the SQL, so each
statement is the same text every time, and PostgreSQL prepares it once (newsroom/settings.py).

Compiling checks for the likely mistakes, each of which would give every run the same
value: a value the query leaves out, or writes into its SQL or into another parameter; a
time that is not one of the values (a clock read while the query was built); a number
worked out from a value.
"""

import datetime
import itertools
import re
import weakref

from django.core.signals import setting_changed
from django.db import connections
from django.db.models.query import ValuesListIterable

# Every statement, so that a changed setting (a test's) forgets what each compiled.
_STATEMENTS = weakref.WeakSet()


class Statement:
    """
    ``Statement(build)``, where ``build(*values)`` gives a values_list() queryset, or a
    tuple of them that each give one value at most (sliced ``[:1]``): those are asked
    together, in one query of one row.

    ``statement.rows(*values)`` gives the queryset's rows as it would, as tuples
    (``statement.row(*values)``, the one row of a tuple of querysets). Values may be aware
    datetimes, ints (ids: the stand-ins are negative), strings, or non-empty lists of them;
    what ``build`` makes of them must depend on nothing else that changes (a setting may:
    settings are read when it compiles, and a changed setting makes it compile again). A
    list's length is part of the query: each length is compiled once.
    """

    def __init__(self, build, using="default"):
        self.build = build
        self.using = using
        self.compiled = {}
        _STATEMENTS.add(self)

    def rows(self, *values):
        connection = connections[self.using]
        compiled = self.compile(connection, values)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(values, connection))
            rows = cursor.fetchall()
        return compiled.convert(rows, connection)

    def row(self, *values):
        (row,) = self.rows(*values)
        return row

    def sql_with_params(self, *values):
        """The SQL and its parameters, for a caller that sends them inside its own."""
        connection = connections[self.using]
        compiled = self.compile(connection, values)
        return compiled.sql, compiled.params(values, connection)

    def compile(self, connection, values):
        key = (connection.vendor, tuple(map(_shape, values)))
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.compiled[key] = Compiled(self.build, values, connection, self.using)
        return compiled

    def forget(self):
        self.compiled.clear()


def forget_all():
    """Make every statement compile again (as a changed setting does)."""
    for statement in list(_STATEMENTS):
        statement.forget()


def _shape(value, inner=False):
    if isinstance(value, list | tuple) and not inner:
        if not value:
            raise ValueError("A statement cannot take an empty list: ask nothing instead.")
        return (len(value), *(_shape(item, inner=True) for item in value))
    if isinstance(value, datetime.datetime):
        if value.utcoffset() is None:
            raise TypeError(f"A statement takes aware datetimes, not {value!r}.")
        return datetime.datetime
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"A statement takes datetimes, ints and strings, not {value!r}.")
    return type(value)


_FIRST_NUMBER = -1_000_000_007  # the stand-ins for numbers count down from it


class StandIns:
    """Values that no real query holds, each as unlike the others as they are unlike data."""

    def __init__(self):
        self.count = itertools.count(1)

    def like(self, value):
        if isinstance(value, list | tuple):
            return [self.like(item) for item in value]
        number = next(self.count)
        if isinstance(value, datetime.datetime):
            # A microsecond of 1901, in UTC: no feature was published then.
            return datetime.datetime(1901, 1, 1, microsecond=number, tzinfo=datetime.UTC)
        if isinstance(value, int):
            return _FIRST_NUMBER - number  # never an id
        return f"\x1fstand-in {number}\x1f"


class Compiled:
    """One statement's SQL for one shape of values, with where each value goes."""

    def __init__(self, build, values, connection, using):
        stand_ins = StandIns().like(list(values))
        built = build(*stand_ins)
        together = isinstance(built, tuple)
        parts = [self.compile(queryset, using, together) for queryset in
                 (built if together else (built,))]  # fmt: skip
        if together:
            # Each asked as one value of a single row: SELECT (...), (...).
            self.sql = "SELECT " + ", ".join(f"({sql})" for _compiler, sql, _params in parts)
            columns = [(compiler, compiler.select[0][0]) for compiler, _sql, _params in parts]
        else:
            compiler, self.sql, _params = parts[0]
            columns = [(compiler, column) for column, *_ in compiler.select[: compiler.col_count]]
        self.template = [param for _compiler, _sql, params in parts for param in params]
        self.places = list(self.find(stand_ins, connection))
        self.check_the_rest(connection)
        self.converters = []
        for position, (compiler, column) in enumerate(columns):
            for converters, expression in compiler.get_converters([column]).values():
                # The backend's own converters are its connection's: each run's are used.
                named = [
                    converter.__name__ if getattr(converter, "__self__", None) is connection.ops
                    else converter
                    for converter in converters
                ]  # fmt: skip
                self.converters.append((position, named, expression))

    @staticmethod
    def compile(queryset, using, together):
        if queryset._iterable_class is not ValuesListIterable:
            raise TypeError("A statement is made of values_list() querysets.")
        query = queryset.query
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        if together and (compiler.col_count != 1 or query.high_mark != query.low_mark + 1):
            raise TypeError("Querysets asked together each give one value: one column, [:1].")
        return compiler, sql, params

    def find(self, stand_ins, connection):
        """Where each stand-in is among the parameters, and how its value is written there."""
        for index, value in enumerate(stand_ins):
            items = enumerate(value) if isinstance(value, list) else [(None, value)]
            for inner, stand_in in items:
                forms = [(stand_in, _as_is)]
                if isinstance(stand_in, datetime.datetime):
                    forms.append((connection.ops.adapt_datetimefield_value(stand_in), _as_datetime))
                # A value written into the SQL, or into another parameter ("tag:5"), would be
                # the stand-in's in every run.
                texts = [str(form) for form, _adapt in forms]
                if any(text in self.sql for text in texts) or any(
                    isinstance(param, str) and param not in texts and text in param
                    for param in self.template
                    for text in texts
                ):
                    raise ValueError(f"Value {index + 1} is written into the statement's SQL.")
                found = False
                for position, param in enumerate(self.template):
                    for form, adapt in forms:
                        if type(param) is type(form) and param == form:
                            yield position, index, inner, adapt
                            found = True
                            break
                if not found:
                    raise ValueError(
                        f"Value {index + 1} is not a parameter of the statement's query: one it "
                        "leaves out would be the same in every run."
                    )

    def check_the_rest(self, connection):
        """
        No other parameter may be a time, or a number near the stand-ins: a time read while
        the query was built (a clock read of its own), or a value worked out from one
        (``now - timedelta(...)``, ``pk + 1``), would be the same in every run.
        """
        placed = {position for position, *_ in self.places}
        for position, param in enumerate(self.template):
            if position in placed:
                continue
            if isinstance(param, datetime.datetime | datetime.date) or (
                isinstance(param, str) and _TIME_TEXT.match(param)
            ):
                raise ValueError(
                    f"The statement's query holds a time that is not one of its values: {param}."
                )
            if isinstance(param, int) and abs(param - _FIRST_NUMBER) < 10_000:
                raise ValueError("The statement's query holds a value worked out from one.")

    def params(self, values, connection):
        params = list(self.template)
        for position, index, inner, adapt in self.places:
            value = values[index] if inner is None else values[index][inner]
            params[position] = adapt(value, connection)
        return params

    def convert(self, rows, connection):
        """As the ORM reads the columns (a date in SQLite's text, say) into Python."""
        if not self.converters:
            return rows
        converters = [
            (position, [getattr(connection.ops, c) if isinstance(c, str) else c for c in named],
             expression)
            for position, named, expression in self.converters
        ]  # fmt: skip
        converted = []
        for row in rows:
            row = list(row)
            for position, functions, expression in converters:
                for converter in functions:
                    row[position] = converter(row[position], expression, connection)
            converted.append(tuple(row))
        return converted


# A date or time as SQLite's backend writes one into a parameter.
_TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|[ T]\d{2}:\d{2})")


def _as_is(value, connection):
    return value


def _as_datetime(value, connection):
    return connection.ops.adapt_datetimefield_value(value)


def _forget(**kwargs):
    forget_all()


setting_changed.connect(_forget, dispatch_uid="features-statements-forget")
