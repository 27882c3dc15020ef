"""Redaction: every registered secret and every header-shaped credential is hidden."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from aoai.auth import REDACTED, RedactingFilter, redact, register_secret


def test_registered_secrets_are_replaced_longest_first() -> None:
    register_secret("unit-secret-value-123")
    register_secret("unit-secret")
    assert redact("a unit-secret-value-123 b unit-secret c") == f"a {REDACTED} b {REDACTED} c"


def test_header_shaped_credentials_are_hidden_even_when_unregistered() -> None:
    for text in ("Authorization: Bearer eyJhbGciOi.payload.sig", '{"api-key": "k-0123456789"}', "api-key=abcdef12"):
        out = redact(text)
        assert "eyJhbGciOi" not in out and "k-0123456789" not in out and "abcdef12" not in out
        assert REDACTED in out


@given(prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_a_registered_secret_never_survives(prefix: str, suffix: str) -> None:
    register_secret("hyp-secret-7f3a")
    assert "hyp-secret-7f3a" not in redact(prefix + "hyp-secret-7f3a" + suffix)


def test_logging_filter_redacts_formatted_messages() -> None:
    register_secret("log-secret-991")
    record = logging.LogRecord("aoai.test", logging.DEBUG, __file__, 1, "token %s", ("log-secret-991",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == f"token {REDACTED}"
