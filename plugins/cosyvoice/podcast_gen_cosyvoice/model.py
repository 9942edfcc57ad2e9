"""CosyVoice 2 inference from a model folder: text + voice prompt -> 24 kHz speech.

Modes, as the reference's ``inference_*`` calls:

* zero-shot (the voice has a transcript): LM prompt = transcript + the prompt's speech tokens;
* cross-lingual (no transcript): LM sees the text alone;
* instruct (a style text): LM prompt = the instruction ending in ``<|endofprompt|>``, no speech.

The flow always uses the prompt's tokens, mel and speaker embedding. Long text is split into
segments (one LM run each); the flow and the vocoder run on many segments at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from podcast.neural.checkpoint import load_strict, read_state_dict, weight_norm_keys

from .config import ModelFolder, open_folder, section
from .flow import build_flow_v2
from .frontend import MelSettings, OnnxFrontend, PromptFeatures, prompt_features
from .hift import HiFT, build_hift, fold_weight_norm
from .lm import Qwen2LM, Sampling, build_lm
from .text import END_OF_PROMPT, Tokenizer, normalize

SAMPLE_RATE = 24000
SILENT_LOG_MEL = math.log(1e-5)
FADE_SECONDS = 0.005


@dataclass(frozen=True)
class VoicePrompt:
    """A host's voice: prompt features plus the normalised transcript's token ids (may be empty)."""

    features: PromptFeatures
    text_ids: tuple[int, ...] = ()


@dataclass
class Segment:
    """One LM run: its speech tokens and the voice whose prompt conditions the flow."""

    tokens: list[int]
    voice: VoicePrompt
    seed: int | None = None  # the vocoder's noise (None: the global generator)
    wav: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


def load_hift(path: Path, cfg: dict, version: int, device: torch.device) -> HiFT:
    with torch.device("meta"):
        hift = build_hift(cfg, version)
    state = {k.removeprefix("generator."): v for k, v in read_state_dict(path).items()}
    load_strict(hift, weight_norm_keys(state, "parametrizations"), what=str(path))
    fold_weight_norm(hift)
    return hift.to(device).eval()


class CosyVoice2:
    """The loaded models of one folder (CPU or one CUDA device, float32)."""

    def __init__(self, root: str | Path, device: str = "cpu", threads: int = 1) -> None:
        self.folder: ModelFolder = open_folder(root)
        if self.folder.version != 2:
            raise NotImplementedError("text-to-speech runs CosyVoice 2 folders; CosyVoice 3 offers token-to-audio only")
        cfg = self.folder.yaml
        self.device = torch.device(device)
        self.tokenizer = Tokenizer(self.folder.qwen)
        llm_cfg = section(cfg, "llm")
        self.sampling = Sampling(**{k: llm_cfg.get("sampling", {})[k] for k in ("top_p", "top_k", "win_size", "tau_r")
                                    if k in llm_cfg.get("sampling", {})})  # fmt: skip
        with torch.device("meta"):
            self.lm: Qwen2LM = build_lm(self.folder.qwen / "config.json", int(llm_cfg.get("speech_token_size", 6561)))
            self.flow = build_flow_v2(section(cfg, "flow"))
        load_strict(self.lm, read_state_dict(self.folder.root / "llm.pt"), what=str(self.folder.root / "llm.pt"))
        load_strict(self.flow, read_state_dict(self.folder.root / "flow.pt"), what=str(self.folder.root / "flow.pt"))
        self.lm.to(self.device).eval()
        self.flow.to(self.device).eval()
        self.hift = load_hift(self.folder.root / "hift.pt", section(cfg, "hift"), 2, self.device)
        self.mel = MelSettings.from_yaml(cfg.get("feat_extractor", {}))
        self.onnx = OnnxFrontend(self.folder.speech_tokenizer, self.folder.root / "campplus.onnx", threads)

    # ── prompts ──
    def voice(self, samples: np.ndarray, rate: int, transcript: str = "") -> VoicePrompt:
        """Features of one voice prompt (compute once per host)."""
        features = prompt_features(samples, rate, self.onnx, self.mel)
        text = normalize(transcript, self.tokenizer.encode, split=False) if transcript.strip() else ""
        return VoicePrompt(features, tuple(self.tokenizer.encode(str(text))) if text else ())

    def stored_voices(self) -> dict[str, VoicePrompt]:
        """The zero-shot speakers saved in the folder's ``spk2info.pt`` (empty when it has none)."""
        return read_spk2info(self.folder.root / "spk2info.pt")

    def segments(self, text: str) -> list[str]:
        return [s for s in normalize(text, self.tokenizer.encode) if s.strip()]  # type: ignore[union-attr]

    # ── LM ──
    def lm_input(self, text_ids: Sequence[int], voice: VoicePrompt, instruct: str = "") -> torch.Tensor:
        none = torch.zeros(0, dtype=torch.long)
        if instruct:
            style = instruct if END_OF_PROMPT in instruct else instruct.rstrip() + END_OF_PROMPT
            prompt_ids, speech = torch.tensor(self.tokenizer.encode(style)), none
        elif voice.text_ids:
            prompt_ids, speech = torch.tensor(voice.text_ids), voice.features.tokens
        else:
            prompt_ids, speech = none, none
        with torch.inference_mode():
            return self.lm.embed_input(torch.tensor(list(text_ids)).to(self.device), prompt_ids.to(self.device),
                                       speech.to(self.device))  # fmt: skip

    def speech_tokens(self, text: str, voice: VoicePrompt, instruct: str = "", *, greedy: bool = False,
                      generator: torch.Generator | None = None) -> list[int]:  # fmt: skip
        ids = self.tokenizer.encode(text)
        sampling = Sampling(**{**_fields(self.sampling), "greedy": greedy})
        return self.lm.generate(self.lm_input(ids, voice, instruct), 2 * len(ids), 20 * len(ids), sampling, generator)

    # ── tokens -> audio, batched ──
    @torch.inference_mode()
    def token2mel(self, segments: Sequence[Segment], on_step: Callable[[int, torch.Tensor], None] | None = None) -> list[torch.Tensor]:
        """Mel [80, frames] per segment, all segments in one flow batch."""
        rows = [torch.cat([s.voice.features.tokens, torch.tensor(s.tokens, dtype=torch.long)]) for s in segments]
        lengths = torch.tensor([len(r) for r in rows])
        tokens = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)
        feats = [s.voice.features.mel for s in segments]
        prompt = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
        emb = torch.cat([s.voice.features.embedding for s in segments])
        dev = self.device
        return self.flow.inference(tokens.to(dev), lengths.to(dev), prompt.to(dev), torch.tensor([len(f) for f in feats]),
                                   emb.to(dev), on_step=on_step)  # fmt: skip

    @torch.inference_mode()
    def mel2wav(self, mels: Sequence[torch.Tensor], generators: Sequence[torch.Generator | None]) -> list[np.ndarray]:
        """Waveforms of mels [80, T], vocoded in one padded batch (silence after each end);
        item i draws its source noise from ``generators[i]`` as a call of its own would."""
        longest = max(m.shape[1] for m in mels)
        batch = torch.full((len(mels), mels[0].shape[0], longest), SILENT_LOG_MEL, device=self.device)
        for i, m in enumerate(mels):
            batch[i, :, : m.shape[1]] = m
        frames = [m.shape[1] for m in mels]
        wav = self.hift(batch, list(generators), frames)
        hop = wav.shape[1] // longest
        return [wav[i, : n * hop].float().cpu().numpy() for i, n in enumerate(frames)]

    def render(self, segments: Sequence[Segment], max_frames: int = 6000) -> None:
        """Fill ``segment.wav`` for every segment, in batches of similar length."""
        size = [2 * (len(s.tokens) + len(s.voice.features.tokens)) for s in segments]
        for group in _groups(sorted(range(len(segments)), key=size.__getitem__), size, max_frames):
            chosen = [segments[i] for i in group]
            gens = [torch.Generator().manual_seed(s.seed) if s.seed is not None else None for s in chosen]
            for seg, wav in zip(chosen, self.mel2wav(self.token2mel(chosen), gens), strict=True):
                seg.wav = wav

    def synthesize(self, text: str, voice: VoicePrompt, instruct: str = "", *, greedy: bool = False,
                   seed: int | None = None) -> np.ndarray:  # fmt: skip
        """One turn: segments rendered and joined with short fades (no clicks at the joins).
        ``seed`` seeds the sampler, and the vocoder of segment k with ``seed + k``."""
        gen = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        parts = [Segment(self.speech_tokens(t, voice, instruct, greedy=greedy, generator=gen), voice,
                         None if seed is None else seed + k) for k, t in enumerate(self.segments(text))]  # fmt: skip
        parts = [p for p in parts if p.tokens]
        if not parts:
            return np.zeros(0, np.float32)
        self.render(parts)
        return join([p.wav for p in parts])


def read_spk2info(path: Path) -> dict[str, VoicePrompt]:
    """Zero-shot speakers of a ``spk2info.pt`` (the reference's ``add_zero_shot_spk``); entries
    without a prompt (CosyVoice 1 SFT speakers carry only an embedding) are left out."""
    if not path.is_file():
        return {}
    table = read_state_dict(path)
    voices = {}
    for name, info in table.items():
        if not isinstance(info, dict) or "flow_prompt_speech_token" not in info:
            continue
        features = PromptFeatures(info["flow_prompt_speech_token"].reshape(-1).long(),
                                  info["prompt_speech_feat"].reshape(-1, info["prompt_speech_feat"].shape[-1]).float(),
                                  info["flow_embedding"].reshape(1, -1).float())  # fmt: skip
        text = info.get("prompt_text", torch.zeros(0)).reshape(-1).tolist()
        voices[str(name)] = VoicePrompt(features, tuple(int(t) for t in text))
    return voices


def _fields(s: Sampling) -> dict:
    return {k: getattr(s, k) for k in s.__slots__}  # type: ignore[attr-defined]


def _groups(order: list[int], frames: list[int], budget: int) -> list[list[int]]:
    groups: list[list[int]] = []
    for i in order:
        if groups and frames[i] * (len(groups[-1]) + 1) <= budget:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def join(parts: Sequence[np.ndarray], rate: int = SAMPLE_RATE) -> np.ndarray:
    """Concatenate segment waveforms with a short raised-cosine fade on each inner join."""
    n = int(FADE_SECONDS * rate)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32))) if n else np.ones(0, np.float32)
    out = []
    for i, part in enumerate(parts):
        part = part.astype(np.float32, copy=True)
        if len(part) > 2 * n:
            if i > 0:
                part[:n] *= ramp
            if i < len(parts) - 1:
                part[-n:] *= ramp[::-1]
        out.append(part)
    return np.concatenate(out) if out else np.zeros(0, np.float32)
