"""Engine exceptions.

EngineError
├── SpecNotLoadedError      the process version's spec is not in this worker's cache
├── TaskNotReadyError       the task is not READY (completed, cancelled, unknown)
├── MessageNotWaitedError   the instance does not wait for this message/correlation
└── ProcessRuntimeError     a script, condition, timer or DMN failed while running
"""

from __future__ import annotations


class EngineError(Exception):
    pass


class SpecNotLoadedError(EngineError):
    pass


class TaskNotReadyError(EngineError):
    pass


class MessageNotWaitedError(EngineError):
    pass


class ProcessRuntimeError(EngineError):
    """Carries what an operator needs: the element, the line and the message."""

    def __init__(
        self,
        message: str,
        element_id: str | None = None,
        line: int | None = None,
        error_line: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.element_id = element_id
        self.line = line
        self.error_line = error_line
