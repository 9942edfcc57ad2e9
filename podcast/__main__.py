"""``python -m podcast`` runs the command line."""

from .cli import main

main()
