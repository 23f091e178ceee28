"""Cartesia Studio: a desktop voiceover studio for Cartesia's voice API."""

__version__ = "0.1.0"
