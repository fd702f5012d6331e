"""Allow ``python -m llmnotes``."""

from llmnotes.cli import main

raise SystemExit(main())
