"""CosyVoice 2 / 3 for podcast-gen."""
