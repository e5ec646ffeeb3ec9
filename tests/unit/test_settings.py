"""Settings refuse what cannot run safely: default secrets outside development, unknown databases."""

import pytest
from pydantic import ValidationError

from tandem.settings import Settings, SettingsError

REAL_SECRET = "q8Zr1vN3xW7pL0sK5dF9gH2jM4bC6tYe"  # 32 characters


@pytest.fixture(autouse=True)
def no_tandem_environment(monkeypatch):
    """The machine's own TANDEM_* variables must not decide these tests."""
    import os

    for name in [n for n in os.environ if n.upper().startswith("TANDEM_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize("env", ["production", "test"])
def test_outside_development_a_missing_secret_is_refused(env):
    with pytest.raises(SettingsError, match="TANDEM_SECRET_KEY"):
        Settings(env=env)


@pytest.mark.parametrize(
    "secret", ["", "changeme", "change-me", "secret", "development", "tandem", "CHANGEME"]
)
def test_in_production_a_default_secret_is_refused(secret):
    with pytest.raises(SettingsError):
        Settings(env="production", secret_key=secret)


def test_in_production_a_secret_shorter_than_32_characters_is_refused():
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings(env="production", secret_key=REAL_SECRET[:31])


def test_in_production_a_random_secret_of_32_characters_is_accepted():
    settings = Settings(env="production", secret_key=REAL_SECRET)

    assert settings.secret() == REAL_SECRET


def test_in_development_no_secret_is_needed():
    assert Settings(env="development").secret_key is None


def test_development_is_the_default_environment():
    assert Settings().env == "development"


def test_the_secret_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TANDEM_ENV", "production")
    monkeypatch.setenv("TANDEM_SECRET_KEY", REAL_SECRET)

    assert Settings().secret() == REAL_SECRET


def test_a_production_environment_without_a_secret_is_refused(monkeypatch):
    monkeypatch.setenv("TANDEM_ENV", "production")

    with pytest.raises(SettingsError):
        Settings()


@pytest.mark.parametrize(
    ("url", "driver_url"),
    [
        ("postgresql://tandem:pw@db:5432/tandem", "postgresql+psycopg://tandem:pw@db:5432/tandem"),
        ("postgres://tandem:pw@db/tandem", "postgresql+psycopg://tandem:pw@db/tandem"),
        ("postgresql+psycopg://tandem@db/tandem", "postgresql+psycopg://tandem@db/tandem"),
        ("sqlite:///tandem.db", "sqlite:///tandem.db"),
    ],
)
def test_postgres_urls_are_given_the_psycopg_driver(url, driver_url):
    assert Settings(database_url=url).sqlalchemy_url == driver_url


def test_only_sqlite_urls_are_sqlite():
    assert Settings(database_url="sqlite:///tandem.db").is_sqlite
    assert not Settings(database_url="postgresql://db/tandem").is_sqlite


@pytest.mark.parametrize("url", ["mysql://db/tandem", "tandem.db", "", "http://db/tandem"])
def test_a_database_url_that_is_not_sqlite_or_postgresql_is_refused(url):
    with pytest.raises(ValidationError, match="TANDEM_DATABASE_URL"):
        Settings(database_url=url)


def test_a_negative_delay_is_refused():
    with pytest.raises(ValidationError):
        Settings(collective_delay_seconds=-1)


def test_sign_in_throttling_cannot_be_turned_off_but_the_api_rate_limit_can():
    with pytest.raises(ValidationError, match="login_rate_limit"):
        Settings(login_rate_limit="")
    with pytest.raises(ValidationError, match="login_address_rate_limit"):
        Settings(login_address_rate_limit=" ")
    assert Settings(api_rate_limit="").api_rate_limit is None
