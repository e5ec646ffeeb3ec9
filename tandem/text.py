"""Rules for text that is shown on one line: names, titles, email addresses, URLs."""

import re

# Control characters, and what str.splitlines() breaks on (the email package refuses them in
# a header): never wanted in one-line text.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def is_one_line(text: str) -> bool:
    return _NOT_ONE_LINE.search(text) is None
