"""Saving generated passwords, as a change of the plan.

A password adprep generates must be on disk before the write that sets it: a run killed right after
the add would otherwise leave an account whose password nobody holds. That save is a write like any
other, so it is a :class:`~adprep.prep.plan.Change` (shown by ``--dry-run``, in the plan JSON as
action ``file.save_passwords``), placed before the first change that sends one of its passwords;
those changes depend on it, so a save that fails sends no password. Which file and in which format
is the command's business: it registers the applier (``account create``: the password alone;
``users import``: CSV rows appended to ``--passwords-out``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from adprep.prep.ldap_writes import AddEntry, ModifyEntry
from adprep.prep.plan import Change, Plan
from adprep.secret import Secret

ACTION_SAVE_PASSWORDS = "file.save_passwords"


@dataclass(frozen=True)
class SavePasswords:
    """Write ``passwords`` (one per account of ``accounts``, in order) to ``path``, on disk (fsync)."""

    path: str
    accounts: tuple[str, ...]
    """sAMAccountNames: shown in the plan."""
    passwords: tuple[Secret, ...] = field(repr=False)


def _sends(change: Change, passwords: tuple[Secret, ...]) -> bool:
    """Whether ``change`` sends one of ``passwords`` (the very objects: a password is never compared)."""
    p = change.payload
    return isinstance(p, AddEntry | ModifyEntry) and any(p.password is s for s in passwords)


def save_passwords_first(plan: Plan, save: SavePasswords, *, id_suffix: str = "") -> Plan:
    """``plan`` with a change that saves ``save``'s passwords before the first change that sends one;
    every change that sends one depends on it. ``id_suffix`` keeps ids unique across a command's
    plans (``#2`` for a second chunk). Unchanged when no change sends one of them."""
    senders = [i for i, c in enumerate(plan.changes) if _sends(c, save.passwords)]
    if not senders:
        return plan
    save_id = f"passwords.save:{save.path}{id_suffix}"
    n = len(save.accounts)
    change = Change(
        id=save_id,
        action=ACTION_SAVE_PASSWORDS,
        target=save.path,
        summary=f"save the generated password{'s' if n != 1 else ''} of {', '.join(save.accounts)} to "
        f"{save.path} (before {'they are' if n != 1 else 'it is'} set)",
        details={"accounts": list(save.accounts), "count": n},
        payload=save,
    )
    changes = [
        dataclasses.replace(c, depends_on=(*c.depends_on, save_id)) if i in senders else c
        for i, c in enumerate(plan.changes)
    ]
    changes.insert(senders[0], change)
    return dataclasses.replace(plan, changes=tuple(changes))
