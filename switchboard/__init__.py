"""Switchboard: an orchestration layer for AI agents, built on LangGraph.

The application shell lives here: settings, model selection, the embedded
offline engine, the run service and the command line. The orchestration
itself lives in the sibling packages ``graph``, ``agents``, ``policies`` and
``checkpoints``.
"""

from __future__ import annotations

__version__ = "0.1.0"
