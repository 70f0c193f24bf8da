"""``python -m bench``: one load, or one of the named scenarios, printed as JSON lines."""

from .cli import main

main()
