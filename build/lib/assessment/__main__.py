"""``python -m assessment``: the command line."""

from .cli import main

raise SystemExit(main())
