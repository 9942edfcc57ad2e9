"""Second-order-section (biquad cascade) filtering without importing ``scipy.signal``.

``import scipy.signal`` pulls in scipy.stats and costs 1.2-1.8 s per process, more than the
filtering itself on a 30-minute episode.  The filter kernel scipy's ``sosfilt`` calls is a
small compiled module with no Python dependencies, so it is loaded straight from its file;
when that fails (another scipy layout) the public ``scipy.signal.sosfilt`` is used instead,
with identical results.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable

import numpy as np

__all__ = ["butter_highpass_sos", "sosfilt_inplace"]


_LOADING = threading.Lock()


def _kernel() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None:
    """scipy's compiled ``_sosfilt(sos, x, zi)`` (in place on C-contiguous ``x`` and ``zi``),
    or ``None`` when it cannot be loaded on its own; loaded once, by one thread (threads
    loading it together made the first filter of each take seconds)."""
    with _LOADING:
        return _load_kernel()


@functools.cache
def _load_kernel() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None:
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    try:
        import scipy

        folder = Path(scipy.__file__).parent / "signal"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"_sosfilt{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("scipy.signal._sosfilt", str(path))
                spec = importlib.util.spec_from_file_location(loader.name, path, loader=loader)
                if spec is None:
                    return None
                module = importlib.util.module_from_spec(spec)
                loader.exec_module(module)
                return module._sosfilt  # type: ignore[no-any-return]
    except (ImportError, AttributeError, OSError):
        return None
    return None


def sosfilt_inplace(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    """Filter C-contiguous ``(channels, n)`` ``x`` through the ``(sections, 6)`` cascade
    ``sos`` in place, continuing from and updating the state ``zi``
    (``(channels, sections, 2)``, direct form II transposed).  All three share one float
    dtype."""
    kernel = _kernel()
    if kernel is not None:
        kernel(sos, x, zi)
        return
    from scipy.signal import sosfilt

    y, state = sosfilt(sos, x, axis=-1, zi=zi.transpose(1, 0, 2))
    x[...] = y
    zi[...] = state.transpose(1, 0, 2)


def butter_highpass_sos(cutoff: float, sample_rate: int) -> np.ndarray:
    """2nd-order Butterworth high-pass at ``cutoff`` Hz as a ``(1, 6)`` float64 SOS array
    (bilinear transform with pre-warping, as ``scipy.signal.butter`` designs it)."""
    k = math.tan(math.pi * cutoff / sample_rate)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    return np.array(
        [
            [
                norm,
                -2.0 * norm,
                norm,
                1.0,
                2.0 * (k * k - 1.0) * norm,
                (1.0 - math.sqrt(2.0) * k + k * k) * norm,
            ]
        ]
    )
