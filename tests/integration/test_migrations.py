"""Migrations produce exactly the schema the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from tandem.models import metadata
from tandem.settings import Settings


def test_migrations_match_the_models(database_url):
    engine = create_engine(Settings(database_url=database_url).sqlalchemy_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []
