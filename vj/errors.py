"""The one error type a user sees: a message that says what is wrong and what to do."""


class VJError(Exception):
    """A problem with the user's input or machine, reported as one line on stderr and exit code 2.

    Raise it with a message that names the thing that is wrong and, where it helps, what to do about it.
    Anything else that escapes is a bug in vj.
    """

    exit_code = 2
