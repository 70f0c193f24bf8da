"""Where the web client's files are: inside the installed package, as ``atelier.web``.

The repository keeps them in ``web/`` beside ``server/``; ``pyproject.toml`` maps that
folder to the data package ``atelier.web``, so a wheel carries them and an editable
install finds them in the checkout.
"""

import importlib
from pathlib import Path

__all__ = ["web_dir"]


def web_dir() -> Path:
    """The folder holding ``index.html`` and the ES modules."""
    # a package of files, with an empty __init__.py to be found (mypy sees only server/)
    web = importlib.import_module(f"{__package__}.web")
    folder = Path(str(web.__file__)).resolve().parent
    if not (folder / "index.html").is_file():
        raise RuntimeError(f"Expected the web client in {folder} but got no index.html")
    return folder
