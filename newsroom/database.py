"""
PostgreSQL connections read times with psycopg's compiled loader.

Django reads every timestamptz through its own loader class, which derives from psycopg's
pure-Python one so that it can attach the connection's time zone, and a page of features
parses every time in Python. With the database in UTC (USE_TZ, as here) psycopg's compiled
loader gives the same values, already in UTC. It stands in for Django's on each new
connection; Django keeps its own wherever a connection is in any other zone.
"""

import datetime

from django.db.backends.signals import connection_created

try:
    from psycopg import _cmodule
    from psycopg.adapt import Loader
except ImportError:  # psycopg without its compiled part, or no psycopg at all
    _cmodule = None


def compiled_loader():
    """psycopg's compiled timestamptz loader class, or None where it has none."""
    compiled = getattr(_cmodule, "_psycopg", None) if _cmodule else None
    return getattr(compiled, "TimestamptzLoader", None)


if compiled_loader() is not None:

    class UtcTimestamptzLoader(Loader):
        """psycopg's compiled loader, with the ``timezone`` Django checks a cursor's by."""

        timezone = datetime.UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.load = compiled_loader()(oid, context).load

        def load(self, data):  # replaced on each instance by the compiled loader's
            raise NotImplementedError


def use_compiled_loader(sender, connection, **kwargs):
    if connection.vendor != "postgresql" or compiled_loader() is None:
        return
    if connection.timezone != datetime.UTC:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)


def connect():
    connection_created.connect(use_compiled_loader, dispatch_uid="newsroom-compiled-loader")
