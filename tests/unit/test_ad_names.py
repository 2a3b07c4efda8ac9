"""Name and password rules: Given / When / Then."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.ad.names import (
    PASSWORD_SYMBOLS,
    check_password,
    generate_password,
    validate_domain_fqdn,
    validate_sam_account_name,
    validate_service_account_name,
)
from adprep.errors import InputError


@pytest.mark.parametrize("name", ["jdoe", "svc.adconnector", "a" * 20, "Jean-Luc_2"])
def test_good_sam_account_names(name: str) -> None:
    assert validate_sam_account_name(name) == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "empty"),
        ("a" * 21, "21 characters"),
        ("j@doe", "'@'"),
        ("a/b", "'/'"),
        ("a[1]", "'['"),
        ("jdoe.", "period"),
        ("tab\tname", "'\\t'"),
    ],
)
def test_bad_sam_account_names(name: str, words: str) -> None:
    with pytest.raises(InputError) as e:
        validate_sam_account_name(name)
    assert words in e.value.sentence()


@pytest.mark.parametrize("name", ["svc_adconnector", "svc.ad-connector", "A1"])
def test_good_service_account_names(name: str) -> None:
    assert validate_service_account_name(name) == name


@pytest.mark.parametrize("name", ["CORP\\svc", "svc@corp.example.com"])
def test_domain_qualified_service_account_names_get_the_specific_sentence(name: str) -> None:
    # Given DOMAIN\user or user@domain / When validated / Then the sentence says to drop the domain
    with pytest.raises(InputError) as e:
        validate_service_account_name(name)
    assert "without DOMAIN\\ or @domain" in e.value.sentence()


@pytest.mark.parametrize("name", ["", "svc account", "svc!"])
def test_other_bad_service_account_names(name: str) -> None:
    with pytest.raises(InputError, match="not accepted"):
        validate_service_account_name(name)


@pytest.mark.parametrize(("name", "fqdn"), [("Corp.Example.COM.", "corp.example.com"), ("a-b.c", "a-b.c")])
def test_good_domain_names(name: str, fqdn: str) -> None:
    assert validate_domain_fqdn(name) == fqdn


@pytest.mark.parametrize("name", ["corp", "corp-x", "CORP."])
def test_single_label_domains_are_refused_with_the_reason(name: str) -> None:
    with pytest.raises(InputError) as e:
        validate_domain_fqdn(name)
    assert "AD Connector does not support single-label domains" in e.value.sentence()


@pytest.mark.parametrize("name", ["", "-a.com", "a-.com", "a..com", "a_b.com", "a--b.com", "x" * 64 + ".com"])
def test_bad_domain_names(name: str) -> None:
    with pytest.raises(InputError):
        validate_domain_fqdn(name)


def test_password_check_reports_classes_and_rules_without_the_password() -> None:
    # Given a short, 2-class password / When checked / Then it is API-valid but not console-valid
    result = check_password("abc123")
    assert result.classes == {"lower", "digit"}
    assert result.api_ok and not result.console_ok
    assert len(result.problems) == 2
    assert all("abc123" not in p for p in result.problems)


def test_password_check_limits() -> None:
    assert check_password("Abcdef1!").console_ok
    assert check_password("Abcdefgh1").console_ok  # 3 of 4 is enough
    assert not check_password("").api_ok
    long = check_password("Aa1!" * 33)
    assert not long.api_ok and not long.console_ok
    assert check_password("ÄäÖö1234").classes == {"lower", "upper", "digit"}


def test_password_containing_account_name_is_flagged() -> None:
    result = check_password("Svc_adc2024!", account_name="SVC_ADC")
    assert not result.console_ok
    assert "account name" in result.problems[0]


@given(st.integers(min_value=8, max_value=128))
def test_generated_passwords_pass_the_console_rules_and_are_shell_and_csv_safe(length: int) -> None:
    # Given a length / When a password is generated / Then it has all 4 classes and only safe symbols
    pw = generate_password(length)
    assert len(pw) == length
    assert pw[0].isalpha()
    result = check_password(pw)
    assert result.console_ok and result.class_count == 4
    assert all(c.isascii() and (c.isalnum() or c in PASSWORD_SYMBOLS) for c in pw)
    assert not set(pw) & set("\"'`\\$!&|;<>(){}[]*?~#^%, =")


def test_generator_default_length_and_bounds() -> None:
    assert len(generate_password()) == 24
    assert generate_password() != generate_password()
    with pytest.raises(InputError):
        generate_password(7)
