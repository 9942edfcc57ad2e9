"""Audio around the model: prompt silence trimming and RMS normalisation, the Vocos mel
features, and the cross-fade that joins chunks.

The reference trims silence with pydub, which works on 16-bit samples in whole milliseconds;
the functions here reproduce those semantics in numpy (no pydub, whose ``audioop`` is gone from
Python 3.13): audio passes through int16, a slice ``[a, b)`` in ms covers frames
``int(a * rate / 1000) .. int(b * rate / 1000)`` (short by up to 2 ms at the end it is padded
with zeros), a segment lasts ``round(1000 * frames / rate)`` ms, and loudness is the integer RMS
of the int16 samples against -50 dBFS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FEATURE_HOP",
    "Pcm16",
    "cross_fade",
    "log_mel",
    "prompt_rms_normalise",
    "trim_edges",
    "trim_prompt",
]

SILENCE_DBFS = -50.0
FEATURE_HOP = 256
FEATURE_FFT = 1024
FEATURE_MELS = 100
# pydub creates its silent padding at 11025 Hz and resamples it when it joins our audio.
_PYDUB_SILENCE_RATE = 11025


@dataclass(frozen=True, slots=True)
class Pcm16:
    """Interleaved int16 frames [N, C] at ``rate`` Hz, addressed in milliseconds like pydub."""

    frames: np.ndarray
    rate: int

    @classmethod
    def from_float(cls, wav: np.ndarray, rate: int) -> Pcm16:
        """[C, N] float -> int16 by ``x * 32768`` clipped and truncated toward zero."""
        scaled = (np.asarray(wav, dtype=np.float32) * np.float32(32768.0)).clip(-32768, 32767)
        return cls(np.ascontiguousarray(scaled.astype(np.int16).T), rate)

    def to_float(self) -> np.ndarray:
        """[C, N] float32 = int16 / 32768."""
        return (self.frames.astype(np.float32) / np.float32(32768.0)).T.copy()

    @property
    def ms(self) -> int:
        return round(1000 * (self.frames.shape[0] / self.rate))

    def _frame(self, ms: float) -> int:
        return int(ms * (self.rate / 1000.0))

    def slice(self, start_ms: int, end_ms: int | None = None) -> Pcm16:
        length = self.ms
        end_ms = length if end_ms is None else end_ms
        start, end = self._frame(min(start_ms, length)), self._frame(min(end_ms, length))
        data = self.frames[start:end]
        missing = (end - start) - data.shape[0]
        if missing > 0:
            data = np.concatenate([data, np.zeros((missing, data.shape[1]), dtype=np.int16)])
        return Pcm16(data, self.rate)

    def reverse(self) -> Pcm16:
        return Pcm16(self.frames[::-1].copy(), self.rate)

    def rms(self) -> int:
        samples = self.frames.astype(np.float64)
        if samples.size == 0:
            return 0
        return int(math.sqrt(float(np.sum(samples * samples)) / samples.size))

    def append_silence(self, ms: int) -> Pcm16:
        """Append ``ms`` of silence the way pydub does (made at 11025 Hz, then resampled)."""
        n = _ratecv_frames(int(_PYDUB_SILENCE_RATE * ms / 1000.0), _PYDUB_SILENCE_RATE, self.rate)
        pad = np.zeros((n, self.frames.shape[1]), dtype=np.int16)
        return Pcm16(np.concatenate([self.frames, pad]), self.rate)


def _ratecv_frames(n: int, rate_in: int, rate_out: int) -> int:
    """Frames ``audioop.ratecv`` returns for ``n`` input frames (from a fresh state)."""
    if n <= 0:
        return 0
    g = math.gcd(rate_in, rate_out)
    return (rate_out // g) * (n - 1) // (rate_in // g) + 1


def _threshold(dbfs: float) -> float:
    return 10 ** (dbfs / 20) * 32768


class _Energy:
    """Integer RMS of any millisecond window of one segment, from cumulative sums."""

    def __init__(self, pcm: Pcm16) -> None:
        squares = pcm.frames.astype(np.int64) ** 2
        self.cum = np.concatenate([[0], np.cumsum(squares.sum(axis=1))])
        self.pcm = pcm
        self.channels = pcm.frames.shape[1]

    def rms(self, start_ms: int, end_ms: int) -> int:
        pcm, length = self.pcm, self.pcm.ms
        start, end = pcm._frame(min(start_ms, length)), pcm._frame(min(end_ms, length))
        if end <= start:
            return 0
        available = min(end, pcm.frames.shape[0])
        total = float(self.cum[available] - self.cum[min(start, available)])
        return int(math.sqrt(total / ((end - start) * self.channels)))


def _leading_silence_ms(pcm: Pcm16, dbfs: float = SILENCE_DBFS, chunk: int = 10) -> int:
    energy, length = _Energy(pcm), pcm.ms
    trim = 0
    while trim < length:
        rms = energy.rms(trim, trim + chunk)
        if rms and 20 * math.log10(rms / 32768) >= dbfs:
            break
        trim += chunk
    return min(trim, length)


def trim_edges(pcm: Pcm16, keep_ms: int = 100) -> Pcm16:
    """Cut leading and trailing silence down to ``keep_ms``."""
    start = max(0, _leading_silence_ms(pcm) - keep_ms)
    pcm = pcm.slice(start).reverse()
    start = max(0, _leading_silence_ms(pcm) - keep_ms)
    return pcm.slice(start).reverse()


def _silent_ranges(pcm: Pcm16, min_len: int, step: int) -> list[list[int]]:
    length = pcm.ms
    if length < min_len:
        return []
    energy, threshold = _Energy(pcm), _threshold(SILENCE_DBFS)
    last = length - min_len
    starts = list(range(0, last + 1, step)) + ([last] if last % step else [])
    silent = [i for i in starts if energy.rms(i, i + min_len) <= threshold]
    if not silent:
        return []
    ranges: list[list[int]] = []
    begin = prev = silent[0]
    for i in silent[1:]:
        if i != prev + step and i > prev + min_len:
            ranges.append([begin, prev + min_len])
            begin = i
        prev = i
    ranges.append([begin, prev + min_len])
    return ranges


def _voiced_ranges(pcm: Pcm16, min_len: int, step: int) -> list[list[int]]:
    silent, length = _silent_ranges(pcm, min_len, step), pcm.ms
    if not silent:
        return [[0, length]]
    if silent[0][0] == 0 and silent[0][1] == length:
        return []
    voiced, prev_end = [], 0
    for start, end in silent:
        voiced.append([prev_end, start])
        prev_end = end
    if silent[-1][1] != length:
        voiced.append([prev_end, length])
    if voiced[0] == [0, 0]:
        voiced.pop(0)
    return voiced


def shorten_long_silences(pcm: Pcm16, min_len: int = 1000, keep: int = 1000, step: int = 10) -> Pcm16:
    """Keep at most ``keep`` ms of silence around each voiced stretch (silences >= ``min_len``)."""
    spans = [[a - keep, b + keep] for a, b in _voiced_ranges(pcm, min_len, step)]
    for left, right in zip(spans, spans[1:], strict=False):
        if right[0] < left[1]:
            left[1] = (left[1] + right[0]) // 2
            right[0] = left[1]
    length = pcm.ms
    parts = [pcm.slice(max(a, 0), min(b, length)).frames for a, b in spans]
    if not parts:
        return Pcm16(pcm.frames[:0], pcm.rate)
    return Pcm16(np.concatenate(parts), pcm.rate)


def trim_prompt(wav: np.ndarray, rate: int, *, trail_ms: int = 200) -> np.ndarray:
    """The reference's prompt clean-up: long silences shortened, edges cut to 100 ms, ``trail_ms``
    of silence appended; [C, N] float -> [C, N'] float32 (quantised to 16 bits)."""
    pcm = trim_edges(shorten_long_silences(Pcm16.from_float(wav, rate)))
    return pcm.append_silence(trail_ms).to_float()


def prompt_rms_normalise(wav: np.ndarray, target: float = 0.1) -> tuple[np.ndarray, float]:
    """Scale a quiet prompt up to ``target`` RMS; returns (wav, original RMS) — the output is
    later scaled back by ``rms / target`` when the prompt was quieter than the target."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))
    rms = torch.sqrt(torch.mean(torch.square(tensor)))
    if rms < target:
        tensor = tensor * target / rms
    return tensor.numpy(), float(rms)


def log_mel(wav: np.ndarray, rate: int, filterbank: np.ndarray | None = None) -> np.ndarray:
    """Vocos mel features of [C, N]: [frames, C * 100], log(max(mel, 1e-7)), channels side by side.

    ``filterbank`` [513, 100] is the mel matrix shipped in the Vocos checkpoint
    (``feature_extractor.mel_spec.mel_scale.fb``, torchaudio's HTK filters computed in float32);
    using it reproduces the reference's log-mels more closely than filters recomputed in float64
    (quiet bands amplify the last-bit differences through the log). Without it the shared HTK
    filters are used. ``(N + 128) // 256`` frames (the STFT's extra frame dropped, or the last
    one repeated).
    """
    import torch

    from podcast.neural.mel import mel_spectrogram, spectrogram

    tensor = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))
    stft = dict(n_fft=FEATURE_FFT, hop_length=FEATURE_HOP, power=1.0, center=True, pad_mode="reflect")
    if filterbank is not None:
        spec = spectrogram(tensor, **stft)  # type: ignore[arg-type]
        bank = torch.from_numpy(np.ascontiguousarray(filterbank, dtype=np.float32))
        mel = (spec.transpose(-1, -2) @ bank).transpose(-1, -2)
    else:
        mel = mel_spectrogram(tensor, sample_rate=rate, n_mels=FEATURE_MELS, scale="htk", norm=None, **stft)  # type: ignore[arg-type]
    logmel = mel.clamp(min=1e-7).log()
    feats = logmel.reshape(-1, logmel.shape[-1]).t()
    frames = (tensor.shape[-1] + FEATURE_HOP // 2) // FEATURE_HOP
    if feats.shape[0] >= frames:
        feats = feats[:frames]
    else:
        feats = torch.cat([feats, feats[-1:].expand(frames - feats.shape[0], -1)])
    return feats.contiguous().numpy()


def cross_fade(chunks: list[np.ndarray], fade: int) -> np.ndarray:
    """Join [C, N] chunks with a linear cross-fade of up to ``fade`` samples at each seam."""
    import torch

    out = torch.from_numpy(chunks[0])
    for nxt in chunks[1:]:
        nxt_t = torch.from_numpy(nxt)
        k = min(fade, out.shape[-1], nxt_t.shape[-1])
        if k <= 0:
            out = torch.cat([out, nxt_t], dim=-1)
            continue
        ramp = torch.linspace(1, 0, k)[None]
        out = torch.cat([out[..., :-k], out[..., -k:] * ramp + nxt_t[..., :k] * (1 - ramp), nxt_t[..., k:]], dim=-1)
    return out.numpy()
