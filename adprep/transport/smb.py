"""SMB transport: the one place that holds an impacket ``SMBConnection``.

adprep reads and writes a GPO's SYSVOL folder through the DC's ``SYSVOL`` share (MS-SMB2), as
GPMC does: files (GPT.INI, Registry.pol), folders, and their security descriptors (SMB2
QUERY_INFO/SET_INFO with InfoType SMB2_0_INFO_SECURITY, MS-SMB2 2.2.37/2.2.39). Authentication is
NTLM as the bound account. impacket's exceptions become :class:`adprep.errors.SmbError` with a
sentence and a hint; passwords never reach a message.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from adprep.errors import SmbConnectionLost, SmbError
from adprep.secret import Secret

T = TypeVar("T")

# MS-DTYP 2.4.7 SECURITY_INFORMATION bits for SMB2 QUERY_INFO/SET_INFO AdditionalInformation.
OWNER_SECURITY_INFORMATION = 0x1
GROUP_SECURITY_INFORMATION = 0x2
DACL_SECURITY_INFORMATION = 0x4
PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000
#: What adprep writes on SYSVOL: owner, group and a DACL that does not inherit from the parent.
SYSVOL_SECURITY_INFORMATION = (
    OWNER_SECURITY_INFORMATION
    | GROUP_SECURITY_INFORMATION
    | DACL_SECURITY_INFORMATION
    | PROTECTED_DACL_SECURITY_INFORMATION
)

# MS-SMB2 2.2.13: desired access, dispositions and create options used here.
_FILE_READ_DATA = 0x1
_FILE_WRITE_DATA = 0x2
_FILE_READ_ATTRIBUTES = 0x80
_DELETE = 0x10000
_READ_CONTROL = 0x20000
_WRITE_DAC = 0x40000
_WRITE_OWNER = 0x80000
_SYNCHRONIZE = 0x100000
_FILE_SHARE_READ = 0x1
_FILE_SHARE_WRITE = 0x2
_FILE_SHARE_DELETE = 0x4
_FILE_OPEN = 0x1
_FILE_OVERWRITE_IF = 0x5
_FILE_DIRECTORY_FILE = 0x1
_FILE_NON_DIRECTORY_FILE = 0x40
_SMB2_0_INFO_SECURITY = 0x3

# NTSTATUS values (MS-ERREF 2.3.1) given their own sentence.
_NOT_FOUND = {0xC0000034, 0xC000003A, 0xC0000033}  # name not found, path not found, name invalid
_COLLISION = 0xC0000035
_HINTS: dict[int, tuple[str, str]] = {
    0xC0000022: ("access was denied", "Use an account that may edit Group Policy (e.g. Group Policy Creator Owners)."),
    0xC000006D: ("the logon failed", "Check the account name and password."),
    0xC000006E: ("the account is restricted", "Check the account's logon restrictions."),
    0xC0000072: ("the account is disabled", "Enable the account or use another one."),
    0xC0000234: ("the account is locked out", "Unlock the account or wait for the lockout to end."),
    0xC00000CC: ("the share does not exist", "Is this a domain controller? Every DC shares SYSVOL."),
    0xC0000043: ("the file is in use", "Close the Group Policy editor on that GPO and run again."),
    0xC0000101: ("the folder is not empty", "Remove its contents first."),
}  # fmt: skip


#: What :meth:`SmbSession.replace_file` appends to a file's name for the copy it writes first.
TEMP_SUFFIX = ".adprep-tmp"


@dataclass(frozen=True)
class SmbTarget:
    """Where to connect."""

    address: str
    port: int = 445
    server_name: str | None = None
    """The server's name for the SMB session (defaults to the address)."""
    timeout: float = 10.0


@dataclass(frozen=True)
class DirEntry:
    name: str
    is_dir: bool


def _status(exc: Exception) -> int | None:
    getter = getattr(exc, "getErrorCode", None)
    if callable(getter):
        try:
            code = getter()
        except AttributeError:
            # impacket's NetBIOSError.getErrorCode reads ``self.error``, which it never sets: a
            # connection the server dropped raised AttributeError here (a bug, exit 4) before.
            return None
        return int(code) if isinstance(code, int) else None
    return None


def _as_error(exc: Exception, *, doing: str, in_session: bool = True) -> SmbError:
    code = _status(exc)
    if code is not None and code in _HINTS:
        sentence, hint = _HINTS[code]
        return SmbError(f"{doing} failed: {sentence} (NTSTATUS 0x{code:08X})", hint=hint, status=code)
    if code is not None and code in _NOT_FOUND:
        return SmbError(f"{doing} failed: the path does not exist (NTSTATUS 0x{code:08X})", status=code)
    if code is not None:
        return SmbError(
            f"{doing} failed with NTSTATUS 0x{code:08X}", hint="Look the status up in MS-ERREF 2.3.1.",
            status=code,
        )  # fmt: skip
    text = " ".join(str(exc).split())[:300] or type(exc).__name__
    from impacket.smbconnection import SessionError

    if in_session and not isinstance(exc, SessionError):  # NetBIOSError, NetBIOSTimeout, OSError
        return SmbConnectionLost(
            f"{doing} failed: the SMB connection was lost ({text})",
            hint="Check that the domain controller is running and TCP 445 reachable, then run the same "
            "command again: it finishes what was started",
        )
    return SmbError(f"{doing} failed: {text}", hint="Check that TCP 445 on the DC is reachable.")


def _smb_errors() -> tuple[type[Exception], ...]:
    from impacket.nmb import NetBIOSError, NetBIOSTimeout
    from impacket.smbconnection import SessionError

    return (SessionError, NetBIOSError, NetBIOSTimeout, OSError)


class SmbSession:
    """A logged-on SMB connection to one server. Paths use ``/`` or ``\\`` inside the share."""

    def __init__(self, conn: Any, target: SmbTarget) -> None:
        self._conn = conn
        self.target = target
        self._trees: dict[str, int] = {}

    def __enter__(self) -> SmbSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection is not worth reporting
            self._conn.close()

    # -- plumbing --------------------------------------------------------------------------------

    def _call(self, doing: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except _smb_errors() as e:
            raise _as_error(e, doing=doing) from e
        except _MALFORMED as e:  # impacket's parsers: struct errors, and bare Exceptions
            raise SmbConnectionLost(
                _not_smb(doing, f"{self.target.address}:{self.target.port}", e),
                hint="Check that the peer is a domain controller's SMB port; run the same command again: it "
                "finishes what was started",
            ) from e

    def _tree(self, share: str) -> int:
        key = share.casefold()
        if key not in self._trees:
            self._trees[key] = self._call(
                f"Connecting to \\\\{self.target.address}\\{share}", lambda: self._conn.connectTree(share)
            )
        return self._trees[key]

    @contextlib.contextmanager
    def _open(self, share: str, path: str, *, access: int, disposition: int, options: int) -> Iterator[Any]:
        tree = self._tree(share)
        name = _path(path)
        fid = self._call(
            f"Opening \\\\{self.target.address}\\{share}\\{name}",
            lambda: self._conn.openFile(
                tree, name, desiredAccess=access,
                shareMode=_FILE_SHARE_READ | _FILE_SHARE_WRITE | _FILE_SHARE_DELETE,
                creationOption=options, creationDisposition=disposition,
            ),
        )  # fmt: skip
        try:
            yield tree, fid
        finally:
            with contextlib.suppress(Exception):
                self._conn.closeFile(tree, fid)

    def _where(self, share: str, path: str) -> str:
        return f"\\\\{self.target.address}\\{share}\\{_path(path)}"

    # -- reads -----------------------------------------------------------------------------------

    def read_file(self, share: str, path: str) -> bytes | None:
        """The file's bytes, or None when it (or its folder) does not exist."""
        try:
            with self._open(
                share, path, access=_FILE_READ_DATA | _READ_CONTROL | _SYNCHRONIZE, disposition=_FILE_OPEN,
                options=_FILE_NON_DIRECTORY_FILE,
            ) as (tree, fid):  # fmt: skip
                chunks: list[bytes] = []
                offset = 0
                while True:
                    data = self._call(
                        f"Reading {self._where(share, path)}",
                        partial(self._conn.readFile, tree, fid, offset, 65536),
                    )
                    if not data:
                        break
                    chunks.append(bytes(data))
                    offset += len(data)
                    if len(data) < 65536:
                        break
                return b"".join(chunks)
        except SmbError as e:
            if "does not exist" in e.message:
                return None
            raise

    def exists(self, share: str, path: str) -> bool:
        """Whether a file or folder exists at ``path``."""
        try:
            with self._open(share, path, access=_FILE_READ_ATTRIBUTES, disposition=_FILE_OPEN, options=0):
                return True
        except SmbError as e:
            if "does not exist" in e.message:
                return False
            raise

    def list_dir(self, share: str, path: str) -> list[DirEntry]:
        """The folder's entries, without ``.`` and ``..``."""
        pattern = _path(path).rstrip("\\") + "\\*"
        found = self._call(f"Listing {self._where(share, path)}", lambda: self._conn.listPath(share, pattern))
        return [
            DirEntry(f.get_longname(), bool(f.is_directory()))
            for f in found
            if f.get_longname() not in (".", "..")
        ]

    def read_security(self, share: str, path: str) -> bytes:
        """The self-relative security descriptor (owner, group, DACL) of a file or folder."""
        info = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION
        with self._open(share, path, access=_READ_CONTROL, disposition=_FILE_OPEN, options=0) as (tree, fid):
            data = self._call(
                f"Reading the ACL of {self._where(share, path)}",
                lambda: self._conn.getSMBServer().queryInfo(
                    tree, fid, infoType=_SMB2_0_INFO_SECURITY, fileInfoClass=0, additionalInformation=info
                ),
            )
        return bytes(data)

    # -- writes ----------------------------------------------------------------------------------

    def make_dir(self, share: str, path: str) -> None:
        """Create a folder; an existing one is fine."""
        try:
            self._call(
                f"Creating {self._where(share, path)}", lambda: self._conn.createDirectory(share, _path(path))
            )
        except SmbError as e:
            if f"0x{_COLLISION:08X}" not in e.message:
                raise

    def write_file(self, share: str, path: str, data: bytes) -> None:
        """Create or overwrite the file with ``data`` (an existing file keeps its security descriptor)."""
        with self._open(
            share, path, access=_FILE_WRITE_DATA | _FILE_READ_DATA | _SYNCHRONIZE, disposition=_FILE_OVERWRITE_IF,
            options=_FILE_NON_DIRECTORY_FILE,
        ) as (tree, fid):  # fmt: skip
            offset = 0
            while offset < len(data):
                chunk = data[offset : offset + 65536]
                self._call(
                    f"Writing {self._where(share, path)}",
                    partial(self._conn.writeFile, tree, fid, chunk, offset),
                )
                offset += len(chunk)

    def replace_file(self, share: str, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` so that a reader, or a run killed half-way, finds the old bytes or
        the new ones, never a truncated file (which would lose a GPO's other settings): the bytes go to
        ``<path>.adprep-tmp`` first, which is then renamed over ``path`` (SMB2 SET_INFO
        FileRenameInformation with ReplaceIfExists, MS-FSCC 2.4.37). A copy left by a killed run is
        overwritten by the next write of the same file. The file then has the security descriptor the
        copy inherited from its folder: callers that care set it afterwards."""
        temp = path + TEMP_SUFFIX
        self.write_file(share, temp, data)
        self._call(
            f"Renaming {self._where(share, temp)} to {_path(path).rpartition(chr(92))[2]}",
            lambda: self._conn.rename(share, _path(temp), _path(path)),
        )

    def write_security(
        self, share: str, path: str, descriptor: bytes, *, info: int = SYSVOL_SECURITY_INFORMATION
    ) -> None:
        """Set the security descriptor of a file or folder (MS-SMB2 2.2.39, SMB2_0_INFO_SECURITY)."""
        access = _READ_CONTROL | _WRITE_DAC | _WRITE_OWNER
        with self._open(share, path, access=access, disposition=_FILE_OPEN, options=0) as (tree, fid):
            self._call(
                f"Setting the ACL of {self._where(share, path)}",
                lambda: self._conn.getSMBServer().setInfo(
                    tree, fid, inputBlob=descriptor, infoType=_SMB2_0_INFO_SECURITY, fileInfoClass=0,
                    additionalInformation=info,
                ),
            )  # fmt: skip

    def remove_tree(self, share: str, path: str) -> None:
        """Delete a folder and everything in it; a missing folder is fine."""
        if not self.exists(share, path):
            return
        for entry in self.list_dir(share, path):
            child = _path(path).rstrip("\\") + "\\" + entry.name
            if entry.is_dir:
                self.remove_tree(share, child)
            else:
                self._call(
                    f"Deleting {self._where(share, child)}", partial(self._conn.deleteFile, share, child)
                )
        self._call(
            f"Deleting {self._where(share, path)}", lambda: self._conn.deleteDirectory(share, _path(path))
        )


def _path(path: str) -> str:
    return path.replace("/", "\\").lstrip("\\")


def connect_smb(target: SmbTarget, *, user: str, domain: str, password: Secret) -> SmbSession:
    """Connect to ``target`` and log on with NTLM as ``user`` (``DOMAIN\\user``, UPN or a bare name in ``domain``)."""
    from impacket.smbconnection import SMBConnection

    account, realm = _split_account(user, domain)
    where = f"{target.address}:{target.port}"
    try:
        conn = SMBConnection(
            target.server_name or target.address,
            target.address,
            sess_port=target.port,
            timeout=target.timeout,
        )
    except _smb_errors() as e:
        raise _as_error(e, doing=f"Connecting to SMB at {where}", in_session=False) from e
    except _MALFORMED as e:
        raise SmbError(_not_smb(f"Connecting to SMB at {where}", where, e), hint=_NOT_SMB_HINT) from e
    try:
        conn.login(account, password.reveal(), realm)
    except (*_smb_errors(), *_MALFORMED) as e:
        with contextlib.suppress(Exception):
            conn.close()
        doing = f"Logging on to SMB at {where} as {user}"
        if not isinstance(e, _smb_errors()):
            # Not chained: the cause's text comes from the peer and the logon, not worth a traceback.
            raise SmbError(_not_smb(doing, where, e), hint=_NOT_SMB_HINT) from None
        raise _as_error(e, doing=doing, in_session=False) from None
    return SmbSession(conn, target)


#: What impacket raises on bytes that are not the SMB it expects: its ``Structure`` raises bare
#: ``Exception`` ("Unpacked data doesn't match constant value", "No answer!"), ``struct`` its own error.
#: Caught only around impacket's calls, after its own SessionError/NetBIOSError.
_MALFORMED: tuple[type[Exception], ...] = (struct.error, ValueError, IndexError, KeyError, Exception)
_NOT_SMB_HINT = (
    "Check that the address is a domain controller and TCP 445 its SMB service, not another service."
)


def _not_smb(doing: str, where: str, e: Exception) -> str:
    text = " ".join(str(e).split())[:160] or type(e).__name__
    return f"{doing} failed: {where} answered with something that is not SMB: a malformed reply ({text})"


def _split_account(user: str, domain: str) -> tuple[str, str]:
    if "\\" in user:
        realm, _, account = user.partition("\\")
        return account, realm
    if "@" in user:
        return user, ""  # NTLM accepts a UPN as the user name with an empty domain
    return user, domain
