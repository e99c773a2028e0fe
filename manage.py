#!/usr/bin/env python
"""Django's command-line utility for MotCua Cloud."""

import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ is a source root (not a package); make it importable even when
    # the project has not been installed with `pip install -e .`.
    platform_dir = str(Path(__file__).resolve().parent / "platform")
    if platform_dir not in sys.path:
        sys.path.insert(1, platform_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
