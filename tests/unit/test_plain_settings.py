"""The settings read without pydantic (ducha.plain_settings) are those ducha.config reads."""

from pathlib import Path

import pytest

from ducha.config import Settings, get_settings
from ducha.plain_settings import CHECKED, PLAIN, plain_settings


def test_every_field_is_either_plain_text_or_checked() -> None:
    assert set(PLAIN) | set(CHECKED) == set(Settings.model_fields)
    assert not set(PLAIN) & set(CHECKED)
    for name in PLAIN:
        field = Settings.model_fields[name]
        assert not field.metadata, name  # no bound, no pattern
        assert field.annotation in (str, str | None, Path, Path | None), name
        default = field.default
        assert PLAIN[name] == (None if default is None else str(default)), name


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"DUCHA_DATABASE_URL": "sqlite:///x.db", "DUCHA_NOW": "2026-12-10"},
        {"DUCHA_EVIDENCE_DIR": "/srv/evidence", "DUCHA_PUBLIC_URL": "https://d.example.org", "OTHER": "1"},
    ],
)
def test_plain_values_are_what_pydantic_reads(environ: dict[str, str]) -> None:
    plain = plain_settings(environ)
    assert plain is not None
    settings = get_settings(environ)
    for name, value in plain.items():
        read = getattr(settings, name)
        assert value == (None if read is None else str(read)), name


@pytest.mark.parametrize("name", CHECKED)
def test_a_checked_setting_sends_the_reader_to_pydantic(name: str) -> None:
    assert plain_settings({f"DUCHA_{name.upper()}": "anything"}) is None
