#!/usr/bin/env python
"""Django's command-line utility for MotCua Cloud."""

import os
import sys
from pathlib import Path

# Commands that change the database's structure connect as the role that owns it
# (DATABASE_OWNER_URL); everything else (and the web, and the workers) as the application
# role, which owns nothing. MOTCUA_DATABASE_ROLE set by hand wins.
OWNER_COMMANDS = frozenset(
    {
        "migrate",
        "migrate_schemas",
        "migrate_agencies",
        "setup_local",
        "database_grants",
        "agency_restore",
    }
)


def main() -> None:
    # platform/ is a source root (not a package); make it importable even when
    # the project has not been installed with `pip install -e .`.
    platform_dir = str(Path(__file__).resolve().parent / "platform")
    if platform_dir not in sys.path:
        sys.path.insert(1, platform_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if len(sys.argv) > 1 and sys.argv[1] in OWNER_COMMANDS:
        os.environ.setdefault("MOTCUA_DATABASE_ROLE", "owner")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
