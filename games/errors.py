"""The one refusal type shared by rules-level engine code and the services."""


class GameError(Exception):
    """A refused request, with the protocol's error ``code`` (see the README's
    error table) and a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # The broadcast of an event the server logged on its own (a flag that
        # was due) before refusing; shown to the caller before the error.
        self.settled: dict | None = None
