"""Built-in ingesters: URL, PDF, saved HTML, ``[S1]`` scripts, and text/Markdown.

Ingesters are chosen by capability: the pipeline asks each, highest ``priority`` first,
whether it ``accepts`` a source.  Order here: url (100) → script (50) → pdf (30) →
html (20) → text (-100, the fallback for any local file or ``-``).

Only light modules are imported here; trafilatura, pypdf and charset-normalizer load when
an ingester actually runs, so ``podcast-gen --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast.hookspecs import hookimpl

from .language import guess_language
from .pdf import PdfIngester
from .script import ScriptIngester
from .text import TextIngester
from .url import UrlIngester
from .webpage import HtmlIngester

__all__ = [
    "INGESTERS",
    "HtmlIngester",
    "PdfIngester",
    "ScriptIngester",
    "TextIngester",
    "UrlIngester",
    "guess_language",
    "register_stages",
]

INGESTERS = (UrlIngester, ScriptIngester, PdfIngester, HtmlIngester, TextIngester)


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    """Register the built-in ingesters."""
    for ingester in INGESTERS:
        register(ingester)
