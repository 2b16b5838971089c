"""Alembic's environment for the shared database (handoff_* and calllog_*).

`plumbing.migrate.upgrade()` passes its own connection, already inside the
transaction that holds the migration lock; the alembic command line (with a
-x-less config naming sqlalchemy.url) gets an engine of its own.
"""

from __future__ import annotations

from alembic import context

from plumbing.database import make_engine

# The migrations are written out by hand (plumbing/migrate.py says why), so
# there is no models' metadata to autogenerate from.
metadata = None

config = context.config


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as own:
            context.configure(connection=own, target_metadata=metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
