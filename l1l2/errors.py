"""What the user did wrong: every such error is reported as one line with exit status 2."""


class InputError(ValueError):
    """Bad input from the user (a flag, a file); the message is the line the user sees."""


class UsageError(InputError):
    """A flag value the command cannot use."""


def require(ok: bool, msg: str) -> None:
    if not ok:
        raise UsageError(msg)
