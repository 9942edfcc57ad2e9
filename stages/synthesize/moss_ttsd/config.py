"""Configuration of the MOSS-TTSD v0.5/v0.7 language model ("AsteroidTTS").

The saved ``config.json`` is a Qwen3 configuration (``model_type`` "qwen3") with four extra
fields: ``channels``, ``speech_pad_token``, ``speech_vocab_size`` and ``speech_token_range``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import Qwen3Config

#: Channel-0 id of speech code 0 (codebook-0 codes are stored as ``code + SPEECH_OFFSET``).
SPEECH_OFFSET = 151665
#: End-of-speech id masked by the reference during teacher forcing (hard-coded there).
DEFAULT_SPEECH_EOS = 152694
#: Text pad id (``<|endoftext|>``) used for left padding and the delayed tail of channel 0.
DEFAULT_TEXT_PAD = 151643


class MossTTSDConfig(Qwen3Config):
    """Qwen3 configuration plus the multi-channel speech fields of MOSS-TTSD.

    ``speech_eos_token`` (optional in the saved file) is the channel-0 id masked while the
    prompt tail is teacher-forced; it defaults to ``eos_token_id`` and then to 152694.
    """

    def __init__(
        self,
        channels: int = 8,
        speech_pad_token: int = 1024,
        speech_vocab_size: int = 1025,
        speech_token_range: list[int] | tuple[int, int] | None = None,
        speech_eos_token: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.speech_pad_token = int(speech_pad_token)
        self.speech_vocab_size = int(speech_vocab_size)
        rng = speech_token_range or [SPEECH_OFFSET, SPEECH_OFFSET + speech_pad_token]
        self.speech_token_range = [int(rng[0]), int(rng[1])]
        self.speech_eos_token = speech_eos_token

    @property
    def eos_id(self) -> int:
        """Channel-0 end-of-speech id written during the flush."""
        eos = self.eos_token_id
        if isinstance(eos, (list, tuple)):
            eos = eos[0] if eos else None
        if eos is None:
            eos = self.speech_eos_token
        return int(eos if eos is not None else DEFAULT_SPEECH_EOS)

    @property
    def masked_eos_id(self) -> int:
        """Channel-0 id masked during teacher forcing (``speech_eos_token`` or the EOS id)."""
        return int(self.speech_eos_token) if self.speech_eos_token is not None else self.eos_id

    @property
    def text_pad_id(self) -> int:
        """Text pad id (``pad_token_id``, else 151643)."""
        pad = self.pad_token_id
        return int(pad) if pad is not None else DEFAULT_TEXT_PAD

    @property
    def speech_offset(self) -> int:
        """Channel-0 id of code 0 (start of ``speech_token_range``)."""
        return int(self.speech_token_range[0])


def load_config(path: str | Path, attention: str | None = None) -> MossTTSDConfig:
    """Read a ``config.json`` (file or folder) as written by the reference ``save_pretrained``."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("architectures", "transformers_version", "auto_map"):
        data.pop(key, None)
    config = MossTTSDConfig.from_dict(data)
    if attention:
        config._attn_implementation = attention
    return config
