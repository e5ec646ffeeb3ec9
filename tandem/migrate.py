"""Applying Alembic migrations from code (`tandem db upgrade`, `serve` on SQLite, tests)."""

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", "tandem:migrations")
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
