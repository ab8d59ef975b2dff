#!/usr/bin/env python
"""Django's command-line utility for LedgerBridge."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line

    if _needs_services(sys.argv):
        from portal.embedded import ensure_embedded_services

        ensure_embedded_services()
    execute_from_command_line(sys.argv)


def _needs_services(argv: list[str]) -> bool:
    """Commands that only inspect code don't need the embedded Redis running."""
    # demo supervises its own redis-server so that Ctrl-C stops it too.
    quiet = {"makemigrations", "check", "help", "collectstatic", "demo"}
    return len(argv) > 1 and argv[1] not in quiet


if __name__ == "__main__":
    main()
