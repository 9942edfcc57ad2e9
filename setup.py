"""Package mapping: ``stages/`` and ``prompts/`` are installed as ``podcast.stages`` and
``podcast.prompts`` so that ``podcast`` is the only top-level import name."""

from pathlib import Path

from setuptools import setup

ROOTS = {"podcast": "podcast", "podcast.stages": "stages", "podcast.prompts": "prompts"}


def packages() -> tuple[list[str], dict[str, str]]:
    names, dirs = [], {}
    for prefix, root in ROOTS.items():
        dirs[prefix] = root
        for init in sorted(Path(root).rglob("__init__.py")):
            rel = init.parent.relative_to(root).parts
            names.append(".".join((prefix, *rel)))
    return names, dirs


NAMES, DIRS = packages()
setup(packages=NAMES, package_dir=DIRS)
