"""LDAP failures in plain sentences: Given / When / Then."""

from __future__ import annotations

import pytest

from adprep.ad.ldap_errors import RESULT_NAMES, explain_ldap_error, parse_subcodes

AD_BIND = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data {}, v4563"


@pytest.mark.parametrize(
    ("sub", "words"),
    [
        ("525", "not found"),
        ("52e", "password is wrong"),
        ("530", "at this time"),
        ("531", "from this workstation"),
        ("532", "password has expired"),
        ("533", "disabled"),
        ("701", "account has expired"),
        ("773", "must change its password"),
        ("775", "locked out"),
    ],
)
def test_ad_bind_subcodes(sub: str, words: str) -> None:
    # Given AD's invalidCredentials diagnostic / When explained / Then the data sub-code decides
    ex = explain_ldap_error(49, AD_BIND.format(sub))
    assert words in ex.sentence
    assert ex.subcode == sub
    assert ex.result_name == "invalidCredentials"


def test_signing_required() -> None:
    msg = (
        "00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity "
        "checking if SSL\\TLS are not already active on the connection, data 0, v4563"
    )
    ex = explain_ldap_error(8, msg)
    assert "signing" in ex.sentence and ex.subcode == "00002028"
    assert ex.hint and "LDAPS" in ex.hint


def test_channel_binding_required() -> None:
    ex = explain_ldap_error(
        49, "80090346: LdapErr: DSID-0C0906B5, comment: AcceptSecurityContext error, data 80090346, v4563"
    )
    assert "channel binding" in ex.sentence and ex.subcode == "80090346"


@pytest.mark.parametrize(
    ("code", "msg", "words"),
    [
        (8, "BindSimple: Transport encryption required.", "encrypted connection"),
        (None, "Strong(er) authentication required", "stronger"),
        (49, "Simple Bind Failed: NT_STATUS_LOGON_FAILURE", "password is wrong"),
        (49, "Simple Bind Failed: NT_STATUS_ACCOUNT_LOCKED_OUT", "locked out"),
    ],
)
def test_samba_texts(code: int | None, msg: str, words: str) -> None:
    assert words in explain_ldap_error(code, msg).sentence


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (50, "not allowed"),
        (53, "unwilling"),
        (13, "encrypted connection"),
        (19, "constraint"),
        (68, "already exists"),
        (32, "does not exist"),
        (34, "not valid"),
        (21, "syntax"),
        (65, "object class"),
        (11, "administrative limit"),
        (51, "busy"),
        (52, "unavailable"),
        (80, "unspecified"),
    ],
)
def test_result_codes(code: int, words: str) -> None:
    ex = explain_ldap_error(code, None)
    assert words in ex.sentence and ex.result_name == RESULT_NAMES[code]


def test_unknown_code_and_nothing_at_all() -> None:
    assert "LDAP result 4242" in explain_ldap_error(4242, "").sentence
    assert "(loopDetect)" not in explain_ldap_error(54, None).sentence
    assert explain_ldap_error(None, None).sentence


def test_the_message_is_never_echoed() -> None:
    # Given a server message that (absurdly) carries a secret / When explained / Then it is not repeated
    ex = explain_ldap_error(49, "bad password Hunter2!")
    assert "Hunter2" not in ex.sentence and "Hunter2" not in (ex.hint or "")


def test_parse_subcodes() -> None:
    assert parse_subcodes(AD_BIND.format("52E")) == ("80090308", "52e")
    assert parse_subcodes(None) == (None, None)
    assert parse_subcodes("no codes here") == (None, None)
