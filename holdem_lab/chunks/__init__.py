"""Chunked training: one function runs a chunk; the CLI and the chunk notebook call it."""

from holdem_lab.chunks.runner import ChunkResult, ChunkStatus, run_chunk

__all__ = ["ChunkResult", "ChunkStatus", "run_chunk"]
