"""Why a benchmark could not run or finish."""


class BenchError(Exception):
    """The benchmark cannot run or cannot finish; the message says why."""


class BenchUsageError(BenchError):
    """The options ask for something the benchmark cannot do."""
