"""MOSS-TTSD v0.5/v0.7 dialogue synthesis: a native, weight-compatible reimplementation.

Sub-modules (all import torch/transformers lazily from the engine's point of view):
``config`` (model configuration), ``model`` (8-channel LM on a Qwen3 backbone), ``fastpath``
(static-KV-cache forward), ``processor`` (prompt layout, delay pattern, padding), ``sampling``,
``generate`` (the decoding loop), ``loading`` (offline weight loading), ``engine`` (the
``moss-ttsd`` dialogue engine) and ``xy_tokenizer`` (the XY-Tokenizer codec).
"""
