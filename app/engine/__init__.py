"""Hosting SpiffWorkflow 3.2.0: sandbox, lean serialization, runner. No Flask, no DB session."""

from app.engine.errors import (
    EngineError,
    MessageNotWaitedError,
    ProcessRuntimeError,
    SpecNotLoadedError,
    TaskNotReadyError,
)

__all__ = [
    "EngineError",
    "MessageNotWaitedError",
    "ProcessRuntimeError",
    "SpecNotLoadedError",
    "TaskNotReadyError",
]
