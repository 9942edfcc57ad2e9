"""MOSS-TTSD v1.0: the MossTTSDelay language model (Qwen3 backbone, 16 delayed codebooks) and the
MOSS-Audio-Tokenizer codec (causal transformer codec, 24 kHz, 12.5 frames/s), reimplemented
natively and weight-compatibly (no remote code).

Sub-modules import torch when imported: ``codec`` (the audio tokenizer), ``model`` (the LM),
``prompt`` (messages, audio expansion, delay pattern, padding), ``generate`` (the decoding loop)
and ``decode`` (de-delay, segments, prompt trim).
"""
