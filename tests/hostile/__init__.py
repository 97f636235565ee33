"""Helpers for the robustness tests: reference runs and state comparison (`runs`), forged
checkpoint files (`forge`) and in-process I/O fault injection (`faults`)."""
