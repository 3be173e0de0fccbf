"""Resonanz: a self-hosted social media marketing suite for teams and agencies."""

__version__ = "0.1.0"
