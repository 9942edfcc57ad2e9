"""HiFT vocoder (``hift.pt``): mel -> 24 kHz waveform through a neural source filter and an iSTFT.

f0 from a small conv net, a harmonic sine source (9 harmonics) built from it, a HiFi-GAN style
upsampler that mixes in the source's STFT, and a 16-point iSTFT. ``HiFT`` is the CosyVoice 2
vocoder (fresh random phases and noise per call, drawn from the ``generator`` given);
``CausalHiFT`` is CosyVoice 3's (causal convolutions, f0 in float64, fixed noise replayed from
the reference's construction order). Convolutions carry torch weight-norm parametrisations, so
the checkpoint's names load as they are; :func:`fold_weight_norm` removes them after loading.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

Generators = torch.Generator | list[torch.Generator | None] | None


def fold_weight_norm(module: nn.Module) -> None:
    """Replace every weight-norm parametrisation by its plain weight (faster inference)."""
    for sub in module.modules():
        if parametrize.is_parametrized(sub, "weight"):
            parametrize.remove_parametrizations(sub, "weight", leave_parametrized=True)


class Snake(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha[None, :, None]
        return x + (1.0 / (a + 1e-9)) * torch.sin(x * a) ** 2


class CConv(nn.Conv1d):
    """Conv1d with zero padding on one side only: ``pad_left`` / ``pad_right`` samples."""

    def __init__(self, cin: int, cout: int, k: int, *, dilation: int = 1, stride: int = 1, left: int = 0,
                 right: int = 0) -> None:  # fmt: skip
        super().__init__(cin, cout, k, stride=stride, dilation=dilation)
        self.pad_left, self.pad_right = left, right

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.pad_left, self.pad_right)))


def _same(k: int, d: int) -> int:
    return (k * d - d) // 2


def _conv(cin: int, cout: int, k: int, dilation: int, causal: bool) -> nn.Conv1d:
    if causal:
        pad = int((k * dilation - dilation) / 2) * 2 + (k + 1) % 2
        return CConv(cin, cout, k, dilation=dilation, left=pad)
    return nn.Conv1d(cin, cout, k, dilation=dilation, padding=_same(k, dilation))


class ResBlock(nn.Module):
    def __init__(self, channels: int, k: int, dilations: list[int], causal: bool = False) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(weight_norm(_conv(channels, channels, k, d, causal)) for d in dilations)
        self.convs2 = nn.ModuleList(weight_norm(_conv(channels, channels, k, 1, causal)) for _ in dilations)
        self.activations1 = nn.ModuleList(Snake(channels) for _ in dilations)
        self.activations2 = nn.ModuleList(Snake(channels) for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2, a1, a2 in zip(self.convs1, self.convs2, self.activations1, self.activations2, strict=True):
            x = x + c2(a2(c1(a1(x))))
        return x


class F0Predictor(nn.Module):
    """Five weight-normed convs with ELU, a Linear, absolute value (``condnet`` / ``classifier``)."""

    def __init__(self, in_channels: int, channels: int, causal: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(5):
            cin = in_channels if i == 0 else channels
            if not causal:
                conv: nn.Conv1d = nn.Conv1d(cin, channels, 3, padding=1)
            elif i == 0:
                conv = CConv(cin, channels, 4, right=3)
            else:
                conv = CConv(cin, channels, 3, left=2)
            layers += [weight_norm(conv), nn.ELU()]
        self.condnet = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, 1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.condnet(mel).transpose(1, 2)).squeeze(-1).abs()


class _LinearSource(nn.Module):
    def __init__(self, harmonics: int) -> None:
        super().__init__()
        self.l_linear = nn.Linear(harmonics, 1)


class HiFT(nn.Module):
    """``HiFTGenerator`` (CosyVoice 2, 24 kHz, ``SineGen2`` source)."""

    causal = False

    def __init__(self, cfg: dict) -> None:
        super().__init__()
        base = int(cfg["base_channels"])
        rates = [int(u) for u in cfg["upsample_rates"]]
        kernels = [int(k) for k in cfg["upsample_kernel_sizes"]]
        self.n_fft = int(cfg["istft_params"]["n_fft"])
        self.hop = int(cfg["istft_params"]["hop_len"])
        self.harmonics = int(cfg["nb_harmonics"]) + 1
        self.sample_rate = int(cfg["sampling_rate"])
        self.alpha = float(cfg["nsf_alpha"])
        self.sigma = float(cfg["nsf_sigma"])
        self.threshold = float(cfg["nsf_voiced_threshold"])
        self.slope = float(cfg["lrelu_slope"])
        self.limit = float(cfg["audio_limit"])
        self.upp = int(np.prod(rates)) * self.hop
        self.rates = rates
        f0cfg = cfg.get("f0_predictor", {})
        self.m_source = _LinearSource(self.harmonics)
        self.conv_pre = weight_norm(self._pre_conv(int(cfg["in_channels"]), base, cfg))
        self.ups = nn.ModuleList(weight_norm(self._up(base // 2**i, base // 2 ** (i + 1), k, u)) for i, (u, k) in enumerate(zip(rates, kernels, strict=True)))
        self.source_downs = nn.ModuleList()
        self.source_resblocks = nn.ModuleList()
        cum = np.cumprod([1, *rates[::-1][:-1]])[::-1]
        src = zip(cum, cfg["source_resblock_kernel_sizes"], cfg["source_resblock_dilation_sizes"], strict=True)
        for i, (u, k, d) in enumerate(src):
            ch = base // 2 ** (i + 1)
            self.source_downs.append(self._down(self.n_fft + 2, ch, int(u)))
            self.source_resblocks.append(ResBlock(ch, int(k), list(d), self.causal))
        self.resblocks = nn.ModuleList()
        pairs = list(zip(cfg["resblock_kernel_sizes"], cfg["resblock_dilation_sizes"], strict=True))
        for i in range(len(rates)):
            for k, d in pairs:
                self.resblocks.append(ResBlock(base // 2 ** (i + 1), int(k), list(d), self.causal))
        self.n_kernels = len(pairs)
        ch = base // 2 ** len(rates)
        self.conv_post = weight_norm(CConv(ch, self.n_fft + 2, 7, left=6) if self.causal else nn.Conv1d(ch, self.n_fft + 2, 7, padding=3))
        self.f0_predictor = F0Predictor(int(f0cfg.get("in_channels", 80)), int(f0cfg.get("cond_channels", 512)), self.causal)

    # layer shapes (overridden by the causal vocoder)
    def _pre_conv(self, cin: int, cout: int, cfg: dict) -> nn.Conv1d:
        return nn.Conv1d(cin, cout, 7, padding=3)

    def _up(self, cin: int, cout: int, k: int, u: int) -> nn.Module:
        return nn.ConvTranspose1d(cin, cout, k, u, padding=(k - u) // 2)

    def _down(self, cin: int, cout: int, u: int) -> nn.Conv1d:
        return nn.Conv1d(cin, cout, 1) if u == 1 else nn.Conv1d(cin, cout, 2 * u, u, padding=u // 2)

    # source
    def f0(self, mel: torch.Tensor) -> torch.Tensor:
        return self.f0_predictor(mel)

    def _phase(self, f0: torch.Tensor, rand_ini: torch.Tensor) -> torch.Tensor:
        """Sines [B, L, H] of the harmonics of ``f0 [B, L, 1]`` (sample rate)."""
        fn = f0 * torch.arange(1, self.harmonics + 1, device=f0.device, dtype=f0.dtype)
        rad = (fn / self.sample_rate) % 1
        rad[:, 0, :] = rad[:, 0, :] + rand_ini
        rad = F.interpolate(rad.transpose(1, 2), scale_factor=1 / self.upp, mode="linear").transpose(1, 2)
        phase = torch.cumsum(rad, dim=1) * 2 * math.pi
        mode = "nearest" if self.causal else "linear"
        phase = F.interpolate(phase.transpose(1, 2) * self.upp, scale_factor=self.upp, mode=mode).transpose(1, 2)
        return torch.sin(phase)

    def _draws(self, b: int, length: int, like: torch.Tensor, generators: Generators,
               lengths: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Initial phases [B, H] and noise [B, length, H]: item i draws as one reference call of
        ``lengths[i]`` samples would (with ``generators[i]``), zero-padded to ``length``."""
        gens = generators if isinstance(generators, list) else [generators] * b
        lengths = lengths or [length] * b
        rand_ini = torch.zeros(b, self.harmonics)
        noise = torch.zeros(b, length, self.harmonics)
        for i, (gen, n) in enumerate(zip(gens, lengths, strict=True)):
            rand_ini[i] = torch.rand(1, self.harmonics, generator=gen)[0]
            # the reference fills a [1, L, H] view of a [1, H, L] tensor (randn_like keeps the strides)
            noise[i, :n] = torch.empty(1, self.harmonics, n).transpose(1, 2).normal_(generator=gen)[0]
            torch.empty(1, n, 1).normal_(generator=gen)  # its discarded noise branch
        rand_ini[:, 0] = 0
        return rand_ini.to(like), noise.to(like)

    def source(self, f0: torch.Tensor, generator: Generators = None, frames: list[int] | None = None) -> torch.Tensor:
        """Excitation [B, 1, L] for frame-rate ``f0 [B, T]`` (item i valid for ``frames[i]`` frames)."""
        up = F.interpolate(f0[:, None], scale_factor=float(self.upp), mode="nearest").transpose(1, 2)
        lengths = [n * self.upp for n in frames] if frames is not None else None
        rand_ini, noise = self._draws(f0.shape[0], up.shape[1], up, generator, lengths)
        sines = self._phase(up, rand_ini) * self.alpha
        uv = (up > self.threshold).to(up.dtype)
        amp = uv * self.sigma + (1 - uv) * self.alpha / 3
        sines = sines * uv + amp * noise
        return torch.tanh(self.m_source.l_linear(sines)).transpose(1, 2)

    # decode
    def _window(self, like: torch.Tensor) -> torch.Tensor:
        return torch.hann_window(self.n_fft, periodic=True, device=like.device, dtype=like.dtype)

    def decode(self, mel: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(s[:, 0], self.n_fft, self.hop, self.n_fft, window=self._window(s), return_complex=True)
        s_stft = torch.cat([spec.real, spec.imag], dim=1)
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, self.slope))
            if i == len(self.ups) - 1:
                x = F.pad(x, (1, 0), mode="reflect")
            x = x + self.source_resblocks[i](self.source_downs[i](s_stft))
            blocks = self.resblocks[i * self.n_kernels : (i + 1) * self.n_kernels]
            acc = blocks[0](x)
            for block in blocks[1:]:
                acc = acc + block(x)
            x = acc / self.n_kernels
        x = self.conv_post(F.leaky_relu(x))
        half = self.n_fft // 2 + 1
        magnitude = torch.exp(x[:, :half]).clamp(max=1e2)
        phase = torch.sin(x[:, half:])
        spec = torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))
        wav = torch.istft(spec, self.n_fft, self.hop, self.n_fft, window=self._window(magnitude))
        return wav.clamp(-self.limit, self.limit)

    def forward(self, mel: torch.Tensor, generator: Generators = None, frames: list[int] | None = None) -> torch.Tensor:
        """mel [B, 80, T] -> waveform [B, T * 480]; ``generator``: one, or one per item."""
        return self.decode(mel, self.source(self.f0(mel), generator, frames))


class _CausalUpsample(nn.Conv1d):
    """Nearest upsampling by ``stride`` then a left-causal conv."""

    def __init__(self, cin: int, cout: int, k: int, stride: int) -> None:
        super().__init__(cin, cout, k)
        self.stride_up = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=float(self.stride_up), mode="nearest")
        return super().forward(F.pad(x, (self.kernel_size[0] - 1, 0)))


class CausalHiFT(HiFT):
    """``CausalHiFTGenerator`` (CosyVoice 3): causal convolutions, float64 f0, fixed noise."""

    causal = True

    def __init__(self, cfg: dict, noise_tensors: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__(cfg)
        self._fixed = noise_tensors

    def _pre_conv(self, cin: int, cout: int, cfg: dict) -> nn.Conv1d:
        look = int(cfg.get("conv_pre_look_right", 4))
        return CConv(cin, cout, look + 1, right=look)

    def _up(self, cin: int, cout: int, k: int, u: int) -> nn.Module:
        return _CausalUpsample(cin, cout, k, u)

    def _down(self, cin: int, cout: int, u: int) -> nn.Conv1d:
        return CConv(cin, cout, 1) if u == 1 else CConv(cin, cout, 2 * u, stride=u, left=u - 1)

    def f0(self, mel: torch.Tensor) -> torch.Tensor:
        return self.f0_predictor.double()(mel.double()).to(mel.dtype)

    def set_noise(self, tensors: dict[str, torch.Tensor]) -> None:
        """The fixed ``rand_ini`` [1, H], ``sine_waves`` [1, N, H] (and optionally ``uv``)."""
        self._fixed = tensors

    def _draws(self, b: int, length: int, like: torch.Tensor, generators: Generators,
               lengths: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        if self._fixed is None:
            self._fixed = replay_cv3_noise(self)
        sine = self._fixed["sine_waves"]
        if length > sine.shape[1]:
            raise ValueError(f"the CosyVoice 3 vocoder is limited to {sine.shape[1] // self.sample_rate} s per call")
        rand_ini = self._fixed["rand_ini"].to(like).expand(b, -1)
        return rand_ini, sine[:, :length].to(like).expand(b, -1, -1)


def replay_cv3_noise(hift: CausalHiFT, flow_vocab: int = 6561, spk_dim: int = 192, seconds: int = 300) -> dict[str, torch.Tensor]:
    """Regenerate CosyVoice 3's construction-time noise by replaying the reference's draws.

    Sequence on a generator seeded 0: CFM noise ``randn(1, 80, 15000)``; default init of the flow's
    ``Embedding(vocab, 80)`` and ``Linear(spk_dim, 80)``; the f0 predictor's default init; then
    ``rand(1, 9)``, ``rand(1, N, 9)``, the ``Linear(9, 1)`` init and ``rand(1, N, 1)``.
    """
    gen = torch.Generator().manual_seed(0)
    torch.randn(1, 80, 50 * 300, generator=gen)
    torch.randn(flow_vocab, 80, generator=gen)  # Embedding: normal_
    _linear_init(spk_dim, 80, gen)
    for module in hift.f0_predictor.modules():
        if isinstance(module, nn.Conv1d):
            _conv_init(module, gen)
        elif isinstance(module, nn.Linear):
            _linear_init(module.in_features, module.out_features, gen)
    n = seconds * hift.sample_rate
    rand_ini = torch.rand(1, hift.harmonics, generator=gen)
    rand_ini[:, 0] = 0
    sine = torch.rand(1, n, hift.harmonics, generator=gen)
    return {"rand_ini": rand_ini, "sine_waves": sine}


def _linear_init(fan_in: int, fan_out: int, gen: torch.Generator) -> None:
    bound = 1 / math.sqrt(fan_in)
    torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=gen)  # kaiming_uniform(a=sqrt 5)
    torch.empty(fan_out).uniform_(-bound, bound, generator=gen)


def _conv_init(conv: nn.Conv1d, gen: torch.Generator) -> None:
    fan_in = conv.in_channels // conv.groups * conv.kernel_size[0]
    bound = 1 / math.sqrt(fan_in)
    torch.empty(conv.out_channels, fan_in).uniform_(-bound, bound, generator=gen)
    torch.empty(conv.out_channels).uniform_(-bound, bound, generator=gen)


def build_hift(cfg: dict, version: int) -> HiFT:
    return CausalHiFT(cfg) if version == 3 else HiFT(cfg)
