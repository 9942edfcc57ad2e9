"""Shared neural building blocks for engines: the one public home for pieces that more than one
engine needs, so built-in engines and plugin distributions import them instead of copying them.

Importing :mod:`podcast` never imports torch; each submodule here does (import it from an
engine's ``load``, not at plugin registration).

* :mod:`podcast.neural.mel` — STFT, mel filter banks (Slaney and HTK), torchaudio-compatible mel
  spectrograms, Whisper log-mel, Kaldi fbank.
* :mod:`podcast.neural.vocos` — the Vocos vocoder (ConvNeXt backbone + ISTFT head).
* :mod:`podcast.neural.flow` — time grids and the Euler solver for flow-matching decoders.
* :mod:`podcast.neural.resample` — windowed-sinc resampling identical to torchaudio's ``Resample``.
* :mod:`podcast.neural.checkpoint` — reading weight files, weight-norm key spellings, strict
  loading with one-line errors, parameter manifests.
"""
