"""Assert that every plugin distribution given on the command line is loaded by podcast-gen.

Each argument is a folder with a ``pyproject.toml``; its ``[project.entry-points.podcast_gen]``
names must all appear in ``podcast-gen plugins --json``.  Folders without a pyproject.toml
(``plugins/`` holding only its README) are skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path


def declared(folder: Path) -> list[str]:
    """The podcast_gen entry-point names a distribution declares."""
    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    return sorted(project.get("entry-points", {}).get("podcast_gen", {}))


def main(folders: list[str]) -> int:
    wanted = {str(folder): declared(Path(folder)) for folder in folders if (Path(folder) / "pyproject.toml").is_file()}
    listing = subprocess.run(["podcast-gen", "plugins", "--json"], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        print(f"CI: podcast-gen plugins --json failed: {listing.stderr.strip()}", file=sys.stderr)
        return 1
    loaded = {plugin["name"] for plugin in json.loads(listing.stdout)["plugins"]}
    missing = [f"{folder} ({name})" for folder, names in wanted.items() for name in names if name not in loaded]
    empty = [folder for folder, names in wanted.items() if not names]
    for folder in empty:
        print(f"CI: {folder} declares no podcast_gen entry point", file=sys.stderr)
    for item in missing:
        print(f"CI: plugin {item} is installed but not listed by podcast-gen plugins", file=sys.stderr)
    if not missing and not empty:
        print(f"CI: plugins loaded: {', '.join(sorted(n for names in wanted.values() for n in names))}")
    return 1 if missing or empty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
