"""Every request body reads numbers and flags strictly: no field coerces "1" or true."""

import importlib
import pkgutil

import pytest

import tandem
from tandem.api.types import Input

SKIPPED = ("tandem.migrations", "tandem.bench", "tandem.__main__")


def input_models() -> list[type[Input]]:
    for module in pkgutil.walk_packages(tandem.__path__, "tandem."):
        if not module.name.startswith(SKIPPED):
            importlib.import_module(module.name)

    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return sorted(set(below(Input)), key=lambda cls: f"{cls.__module__}.{cls.__name__}")


def lax_scalars(schema, where: str = ""):
    """Paths to int, float and bool schemas that are not strict."""
    if isinstance(schema, dict):
        if schema.get("type") in ("int", "bool", "float") and not schema.get("strict"):
            yield f"{where} ({schema['type']})"
        for key, value in schema.items():
            yield from lax_scalars(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from lax_scalars(value, f"{where}[{index}]")


def test_the_api_has_request_bodies_to_check():
    assert len(input_models()) > 20


@pytest.mark.parametrize("model", input_models(), ids=lambda model: model.__name__)
def test_no_request_field_coerces_numbers_or_flags(model):
    assert list(lax_scalars(model.__pydantic_core_schema__)) == []
