"""Rule conditions in CEL, Google's Common Expression Language, through cel-python.

Why CEL: it is made for exactly this (Kubernetes, Envoy and Firebase use it for
user-written policies): side-effect free, not Turing-complete, always terminates,
with a published specification, so an expression saved by a merchant cannot do
anything but answer true or false. We write no parser of our own.
"""

from dataclasses import asdict

import celpy
from celpy import celtypes

from tandem.automation.domain import SAMPLE, VARIABLES, OrderFacts

_ENVIRONMENT = celpy.Environment()
MAX_LENGTH = 1000


class BadCondition(ValueError):
    """The condition does not parse, names an unknown value, or is not a yes/no question."""


def compile_condition(text: str):
    """A runnable condition, checked against a sample order so mistakes surface when saved."""
    if not text.strip() or len(text) > MAX_LENGTH:
        raise BadCondition(f"a condition is 1 to {MAX_LENGTH} characters")
    try:
        program = _ENVIRONMENT.program(_ENVIRONMENT.compile(text))
    except celpy.CELParseError as exc:
        raise BadCondition(f"cannot read the condition: {str(exc).splitlines()[0]}") from None
    result = _run(program, SAMPLE)
    if not isinstance(result, bool):
        raise BadCondition("the condition must be true or false (for example total > 500.0)")
    return program


def matches(program, facts: OrderFacts) -> bool:
    return _run(program, facts) is True


def _run(program, facts: OrderFacts):
    try:
        result = program.evaluate(_activation(facts))
    except (celpy.CELEvalError, TypeError, ValueError) as exc:
        raise BadCondition(_explain(exc)) from None
    if isinstance(result, celpy.CELEvalError):
        raise BadCondition(_explain(result))
    return bool(result) if isinstance(result, celtypes.BoolType) else result


def _activation(facts: OrderFacts) -> dict:
    return {name: _cel(value) for name, value in asdict(facts).items()}


def _cel(value):
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, list):
        return celtypes.ListType([celtypes.StringType(v) for v in value])
    return celtypes.StringType(value)


def _explain(error) -> str:
    text = str(error.args[0] if getattr(error, "args", None) else error)
    if "undeclared reference" in text:
        name = text.split("'")[1] if "'" in text else "a name"
        return f"unknown value {name}; conditions can use: {', '.join(VARIABLES)}"
    return f"the condition cannot be evaluated: {text[:200]}"
