"""Cross-check adprep's Registry.pol codec against Samba's (samba.gp_parse.gp_pol, samba.dcerpc.preg).

Samba's Python bindings are installed for the system interpreter, not adprep's venv, so each check
runs a small script under /usr/bin/python3 and talks JSON over stdin/stdout. A missing Samba is a
skip on a laptop and a failure on CI (CI=true).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adprep.gpo.registry_pol import PolEntry, RegType, encode_registry_pol, parse_registry_pol

SYSTEM_PYTHON = "/usr/bin/python3"

# Runs under Samba's interpreter. Reads {"mode": ..., ...} on stdin.
#  mode "write": {"xml": "<PolFile ...>"} -> GPPolParser.load_xml + write_binary; prints the hex bytes.
#  mode "read": {"hex": "..."} -> GPPolParser.parse (ndr_unpack preg.file); prints the entries with
#  their data turned back into bytes the way Samba's NDR union would pack them.
SAMBA_SCRIPT = r"""
import json, struct, sys, tempfile, os
from xml.etree.ElementTree import fromstring
from samba.dcerpc import misc
from samba.gp_parse.gp_pol import GPPolParser

req = json.load(sys.stdin)
parser = GPPolParser()
if req["mode"] == "write":
    parser.load_xml(fromstring(req["xml"]))
    fd, path = tempfile.mkstemp(suffix=".pol")
    os.close(fd)
    try:
        parser.write_binary(path)
        with open(path, "rb") as f:
            print(json.dumps({"hex": f.read().hex()}))
    finally:
        os.unlink(path)
else:
    parser.parse(bytes.fromhex(req["hex"]))
    out = []
    for e in parser.pol_file.entries:
        d = e.data
        if e.type in (misc.REG_DWORD, misc.REG_DWORD_BIG_ENDIAN):
            raw = struct.pack("<I", d)
        elif e.type == misc.REG_QWORD:
            raw = struct.pack("<Q", d)
        elif isinstance(d, str):
            raw = (d + "\x00").encode("utf-16le")
        elif d is None:
            raw = b""
        else:
            raw = bytes(d)
        out.append({"key": e.keyname, "value": e.valuename, "type": e.type, "size": e.size,
                    "data": raw.hex()})
    print(json.dumps({"header": [parser.pol_file.header.signature, parser.pol_file.header.version],
                      "entries": out}))
"""


def _samba_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import samba.gp_parse.gp_pol, samba.dcerpc.preg"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module", autouse=True)
def samba() -> None:
    if not _samba_available():
        message = f"Samba's Python bindings (python3-samba) are not importable by {SYSTEM_PYTHON}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def run_samba(request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", SAMBA_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def samba_reads(entries: list[PolEntry]) -> list[tuple[str, str, int, bytes]]:
    result = run_samba({"mode": "read", "hex": encode_registry_pol(entries).hex()})
    assert result["header"] == ["PReg", 1]
    return [(e["key"], e["value"], e["type"], bytes.fromhex(e["data"])) for e in result["entries"]]


KEY = r"Software\Policies\Teradici\PCoIP\pcoip_admin_defaults"
ODD_KEY = r"Software\Policies\adprep\Ké;y]["

MIXED = [
    PolEntry.dword(KEY, "pcoip.server_clipboard_state", 2),
    PolEntry.dword(KEY, "pcoip.remote_printing_enabled", 0),
    PolEntry.sz(ODD_KEY, "text;]", "semi;colon ]bracket[ 雪"),
    PolEntry.sz(ODD_KEY, "path", "%SystemRoot%\\x", expand=True),
    PolEntry.multi_sz(ODD_KEY, "list", ["one", "two;]", "drei é"]),
    PolEntry.qword(ODD_KEY, "big", 2**63 + 1),
    PolEntry.binary(ODD_KEY, "blob", b"[\x00;\x00]\x00\xff"),
    PolEntry(ODD_KEY, "nothing", RegType.REG_NONE, b""),
    PolEntry.delete(KEY, "pcoip.old_setting"),
    PolEntry.delete_values(ODD_KEY),
]


def test_samba_reads_what_adprep_writes() -> None:
    # Given entries of every common type, with separators in names and data
    # When Samba parses adprep's bytes
    seen = samba_reads(MIXED)

    # Then it sees the same keys, value names, types and data bytes
    assert seen == [(e.key, e.value, int(e.type), e.data) for e in MIXED]


def test_adprep_reads_what_samba_writes_from_xml() -> None:
    # Given Samba's GPPolParser XML for the PCoIP settings plus a string, a list and a deletion
    xml = f"""<PolFile num_entries="5" signature="PReg" version="1">
      <Entry type="4" type_name="REG_DWORD"><Key>{KEY}</Key>
        <ValueName>pcoip.server_clipboard_state</ValueName><Value>3</Value></Entry>
      <Entry type="4" type_name="REG_DWORD"><Key>{KEY}</Key>
        <ValueName>pcoip.remote_printing_enabled</ValueName><Value>1</Value></Entry>
      <Entry type="1" type_name="REG_SZ"><Key>{KEY}</Key>
        <ValueName>note;]</ValueName><Value>a;b]c é</Value></Entry>
      <Entry type="7" type_name="REG_MULTI_SZ"><Key>{KEY}</Key>
        <ValueName>list</ValueName><Value>x</Value><Value>y;]</Value></Entry>
      <Entry type="1" type_name="REG_SZ"><Key>{KEY}</Key>
        <ValueName>**del.pcoip.old</ValueName><Value> </Value></Entry>
    </PolFile>"""

    # When Samba writes the binary file and adprep parses it
    data = bytes.fromhex(run_samba({"mode": "write", "xml": xml})["hex"])
    entries = parse_registry_pol(data)

    # Then adprep sees the same settings, and its own encoding is byte-identical
    assert entries == (
        PolEntry.dword(KEY, "pcoip.server_clipboard_state", 3),
        PolEntry.dword(KEY, "pcoip.remote_printing_enabled", 1),
        PolEntry.sz(KEY, "note;]", "a;b]c é"),
        PolEntry.multi_sz(KEY, "list", ["x", "y;]"]),
        PolEntry.delete(KEY, "pcoip.old"),
    )
    assert encode_registry_pol(entries) == data


names = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("[];\\. é雪")), st.characters(blacklist_categories=("Cs",))
    ).filter(lambda c: c != "\x00"),
    min_size=1,
    max_size=12,
)
typed = st.one_of(
    st.builds(PolEntry.dword, names, names, st.integers(0, 2**32 - 1)),
    st.builds(PolEntry.qword, names, names, st.integers(0, 2**64 - 1)),
    st.builds(PolEntry.sz, names, names, names, expand=st.booleans()),
    st.builds(PolEntry.multi_sz, names, names, st.lists(names, min_size=1, max_size=3)),
    st.builds(PolEntry.binary, names, names, st.binary(min_size=1, max_size=12)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(typed, min_size=1, max_size=6))
def test_samba_agrees_on_generated_entries(entries: list[PolEntry]) -> None:
    assert samba_reads(entries) == [(e.key, e.value, int(e.type), e.data) for e in entries]
