"""The directory and service account checks for one DC: the entry point ``adprep preflight`` calls.

It reads the rootDSE anonymously (time skew, functional levels), binds once as the service account
(bind verdict, state, rights, VLV, optional join probe) and, only if that bind worked, binds again
to read the configuration and schema facts: a refused password is never retried, so one run costs
at most one bad-password count per DC.
"""

from __future__ import annotations

from collections.abc import Callable

from adprep.ad.dn import ou_path_to_dn
from adprep.checks.account import check_account, check_kerberos
from adprep.checks.directory import check_directory, check_functional_level, check_time_skew
from adprep.collect.account import collect_service_account
from adprep.collect.directory import collect_directory, collect_root_dse
from adprep.errors import TransportError
from adprep.facts.directory import DirectoryFacts, LdapMode, Observed
from adprep.model import CheckResult
from adprep.secret import Secret
from adprep.transport.kerberos import kerberos_login
from adprep.transport.ldap import LdapSession, LdapTarget, connect
from adprep.transport.ldap_settings import DirectorySettings


def target_container_dn(target_ou: str | None, base_dn: str) -> str | None:
    """A DN as given, or an OU path (``WorkSpaces/Computers``) under ``base_dn``; None for the default."""
    if not target_ou:
        return None
    return target_ou if "=" in target_ou else ou_path_to_dn(target_ou, base_dn)


def run_directory_checks(
    *,
    dc_address: str,
    dc_name: str | None,
    domain: str,
    username: str,
    password: Secret,
    mode: LdapMode,
    ca_file: str | None,
    verify: bool,
    target_ou: str | None,
    join_probe: bool,
    timeout: float,
) -> list[CheckResult]:
    """Collect and check the directory and the service account on the DC at ``dc_address``.

    Results, in order: ``directory.time_skew.<dc>``, ``directory.functional_level.forest|domain``,
    ``directory.vlv.setting``, ``directory.vlv.search``, ``directory.cn_index``, ``directory.preauth``,
    ``account.bind``, ``account.state``, ``account.rights.create_computer``,
    ``account.rights.read_users``, ``account.join_probe``, ``account.kerberos``. Anything unreachable or unreadable is an
    ``error`` result; bugs propagate. A bad ``target_ou`` path raises :class:`InputError` first.
    """
    settings = DirectorySettings(
        dc=dc_address, domain=domain, user=username, password=password, dc_name=dc_name, mode=mode,
        ca_file=ca_file, verify=verify, timeout=timeout,
    )  # fmt: skip
    container = target_container_dn(target_ou, settings.base_dn)
    target = settings.target()
    root = collect_root_dse(target)
    account = collect_service_account(settings, target_container_dn=container, join_probe=join_probe)

    session_factory: Callable[[], LdapSession]
    if account.bind.ok:

        def session_factory() -> LdapSession:
            return connect(target, user=settings.bind_name, password=password)

    else:
        reason = account.bind.sentence or "the bind failed"

        def session_factory() -> LdapSession:
            raise TransportError(f"the service account did not bind ({reason}); see account.bind")

    directory = collect_directory(target, session_factory, root_dse=root)
    # Only after a good bind: a wrong password must not cost a second bad-password count.
    login = (
        kerberos_login(dc_address, domain, username, password, timeout=timeout) if account.bind.ok else None
    )
    return [
        check_time_skew(dc_address, root),
        *check_directory(directory, account.vlv),
        *check_account(account),
        check_kerberos(login, account),
    ]


def run_anonymous_directory_checks(*, dc_address: str, timeout: float) -> list[CheckResult]:
    """What the directory says without credentials: its clock and the forest and domain functional
    levels, from the rootDSE read anonymously over LDAP 389 (MS-ADTS 3.1.1.3.2: the rootDSE is readable
    before any bind), as DirectoryServicePortTest tests the levels with the domain alone.

    Results: ``directory.time_skew.<dc>``, ``directory.functional_level.forest|domain``.
    """
    root = collect_root_dse(LdapTarget(dc_address, mode="plain", timeout=timeout))
    why = "not read without a service account"
    facts = DirectoryFacts(
        address=dc_address, root_dse=root, other_settings=Observed.failed(why),
        max_temp_table_size=Observed.failed(why), user_count=Observed.failed(why),
        cn_search_flags=Observed.failed(why), preauth=Observed.failed(why),
    )  # fmt: skip
    return [
        check_time_skew(dc_address, root),
        check_functional_level("forest", facts),
        check_functional_level("domain", facts),
    ]
