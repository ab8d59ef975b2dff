"""Fail early, in plain words, when the interpreter is too old."""

import sys

MINIMUM = (3, 11)

if sys.version_info[:2] < MINIMUM:
    sys.exit(
        f"LedgerBridge needs Python 3.11 or newer; {sys.executable} is "
        f"{sys.version.split()[0]}. Install python3.11 or run "
        "`make PYTHON=/path/to/python3.11 ...`."
    )
