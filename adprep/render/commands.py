"""Commands for people to run, quoted for their shell: POSIX ``sh`` (the AWS CLI, samba-tool) or
PowerShell (on a Windows DC).

Every value is quoted so that the shell passes it through as one argument, unchanged: in ``sh`` by
:func:`shlex.quote`; in PowerShell inside single quotes, where nothing is expanded and a quote is
written twice (PowerShell also treats the typographic single quotes U+2018–U+201B as quotes, so
they are doubled too). A word that is not data (a program, a flag, a parameter name) is written as
it is, and must be one of the characters that no shell treats specially.
"""

from __future__ import annotations

import re
import shlex

from adprep.prep.manual import Bare, Command, Word

_BARE = re.compile(r"^[A-Za-z0-9_./:-]+$")
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote_sh(value: str) -> str:
    """``value`` quoted for a POSIX shell."""
    return shlex.quote(value)


def quote_powershell(value: str) -> str:
    """A PowerShell verbatim (single-quoted) string holding exactly ``value``."""
    return "'" + "".join(ch * 2 if ch in _PS_QUOTES else ch for ch in value) + "'"


def _word(word: Word, shell: str) -> str:
    if isinstance(word, Bare):
        if not _BARE.match(word.text):
            raise ValueError(f"{word.text!r} cannot be written bare")
        return word.text
    if isinstance(word, bool):
        raise TypeError("a boolean is not a command word")
    if isinstance(word, int):
        return str(word)
    if isinstance(word, tuple):
        if shell != "powershell":
            raise ValueError("an array is a PowerShell word")
        return ",".join(_word(w, shell) for w in word)
    return quote_powershell(word) if shell == "powershell" else quote_sh(word)


def render_command(command: Command) -> str:
    """The command as one line to paste into its shell."""
    return " ".join(_word(w, command.shell) for w in command.words)
