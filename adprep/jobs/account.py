"""``adprep account create``: the AD Connector service account (see docs/sources.md), enabled, in the
delegation group, its password from a secret source or generated.

A generated password goes only where the user said: a file created with mode 0600 (written and
fsynced before the add that sets it, so a killed run or a crash cannot lose it), or stdout when
asked. If the add finds the account created by someone else meanwhile, the change fails and the
file is removed: it would hold a password that was never set.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adprep.ad.names import (
    casefolded,
    check_password,
    generate_password,
    validate_sam_account_name,
    validate_service_account_name,
)
from adprep.collect.ldap_objects import find_by_sam
from adprep.errors import AdprepError, InputError
from adprep.jobs.delegate import container_dn
from adprep.prep.account import AccountSpec, ObservedAccount, plan_account
from adprep.prep.ldap_apply import ldap_appliers
from adprep.prep.passwords import SavePasswords, save_passwords_first
from adprep.prep.plan import Appliers, ApplyResult, Outcome, Plan, apply_plan
from adprep.secret import Secret
from adprep.secrets import open_private
from adprep.transport.ldap import LdapSession
from adprep.transport.ldap_settings import DirectorySettings

#: Where ``--password-out -`` sends a generated password.
STDOUT = Path("-")


@dataclass(frozen=True)
class AccountSettings:
    directory: DirectorySettings
    name: str
    container_dn: str
    group: str | None
    password: Secret | None = field(repr=False)
    """The given password; ``None`` with ``generate``."""
    generate: bool = False
    password_out: Path | None = None
    """A file (0600) for a generated password, or :data:`STDOUT`."""
    never_expires: bool = False
    reset_password: bool = False


def account_settings(
    directory: DirectorySettings,
    *,
    name: str,
    container: str | None,
    group: str | None,
    password: Secret | None,
    generate: bool,
    password_out: Path | None,
    never_expires: bool,
    reset_password: bool,
) -> AccountSettings:
    """Check ``account create``'s inputs (the name, the container, a generated password's
    destination) before any traffic."""
    validate_service_account_name(name)
    validate_sam_account_name(name)
    if generate and password is not None:
        raise InputError("Both a password and --generate-password were given", hint="Choose one.")
    if generate and password_out is None:
        raise InputError(
            "--generate-password needs --password-out",
            hint="Pass --password-out FILE (created with mode 0600), or --password-out - to print it on stdout.",
        )
    if not generate and password is None:
        raise InputError(
            "No password for the new account",
            hint="Set ADPREP_ACCOUNT_PASSWORD, pass --account-password-file, or --generate-password.",
        )
    if password is not None:
        check = check_password(password.reveal(), account_name=name)
        if not check.console_ok:
            raise InputError(f"The account password is not accepted: {' '.join(check.problems)}")
    return AccountSettings(
        directory=directory,
        name=name,
        container_dn=container_dn(
            container, directory.base_dn, default=f"CN=Users,{directory.base_dn}", what="--container"
        ),
        group=group or None,
        password=password,
        generate=generate,
        password_out=password_out,
        never_expires=never_expires,
        reset_password=reset_password,
    )


@dataclass(frozen=True)
class AccountPlan:
    plan: Plan
    generated: Secret | None = field(default=None, repr=False)
    """The generated password, when the plan sets one."""


def plan_account_create(session: LdapSession, settings: AccountSettings) -> AccountPlan:
    """Look the account and its group up, then plan: create or complete it, put it in the group, and
    save a generated password first."""
    base = settings.directory.base_dn
    group_dn: str | None = None
    if settings.group is not None:
        groups = find_by_sam(session, base, [settings.group], (), object_class="group")
        hit = groups.get(settings.group.casefold())
        if hit is None:
            raise InputError(
                f"The group {settings.group} does not exist in {base}",
                hint="Create it with adprep delegate first, or pass --no-group.",
            )
        group_dn = hit.dn
    found = find_by_sam(session, base, [settings.name], ("userAccountControl", "memberOf", "objectClass"))
    entry = found.get(settings.name.casefold())
    observed: ObservedAccount | None = None
    if entry is not None:
        classes = {str(c).casefold() for c in entry.all("objectClass")}
        if "user" not in classes or "computer" in classes:
            raise InputError(f"{settings.name} exists at {entry.dn} but is not a user account")
        observed = ObservedAccount(
            entry.dn, int(entry.first("userAccountControl", 0)), casefolded(entry.all("memberOf"))
        )
    needs_password = observed is None or settings.reset_password
    password = settings.password
    if needs_password and settings.generate:
        password = Secret(generate_password(), "generated")
    spec = AccountSpec(
        name=settings.name,
        container_dn=settings.container_dn,
        domain=settings.directory.domain,
        group_dn=group_dn,
        password=password if needs_password else None,
        password_never_expires=settings.never_expires,
        reset_password=settings.reset_password,
    )
    generated = password if needs_password and settings.generate else None
    on_exists: Callable[[], None] | None = None
    out = settings.password_out if settings.password_out != STDOUT else None
    if generated is not None:

        def on_exists() -> None:
            # Someone else created the account between this run's look and its add: the generated
            # password was never set, so it must not stay where the user will look for it.
            if out is not None:
                with contextlib.suppress(FileNotFoundError):
                    out.unlink()
            raise AdprepError(
                f"The account {settings.name} was created by someone else while this run was applying, with "
                "another password; the generated one was not set"
                + (f" and {out} was removed" if out else ""),
                hint="Run again with --reset-password --generate-password to give it a password you hold.",
            )

    plan = plan_account(spec, observed, on_exists=on_exists)
    if generated is not None and out is not None:
        # On disk before the write that sets it: a crash right after the add loses nothing.
        plan = save_passwords_first(plan, SavePasswords(str(out), (settings.name,), (generated,)))
    return AccountPlan(plan, generated)


def save_account_password(p: SavePasswords) -> None:
    """``--password-out FILE``: the generated password alone, replacing the file (mode 0600, fsync)."""
    with open_private(Path(p.path), append=False) as f:
        for secret in p.passwords:
            f.write(secret.reveal() + "\n")
        f.flush()
        os.fsync(f.fileno())


def apply_account_create(
    session: LdapSession, plan: Plan, *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """Apply an ``account create`` plan: its LDAP writes and the save of a generated password."""
    appliers = ldap_appliers(session).merged(Appliers().on(SavePasswords, save_account_password))
    return apply_plan(plan, appliers, on_done=on_done)
