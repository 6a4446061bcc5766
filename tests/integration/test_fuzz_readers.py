"""Every file reader, fed random bytes and random YAML: success or exit 2, never another exit code
(a crash is exit 3), and a refusal writes nothing."""

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import js, ok, run
from tests.integration.test_hostile_input import counts

AT = "2026-12-10T09:00+08:00"
# 25 examples a reader in CI; DUCHA_FUZZ_EXAMPLES=1000 for a longer search.
EXAMPLES = int(os.environ.get("DUCHA_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)
raw = st.binary(max_size=3000)


def as_yaml(document: Any) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True).encode("utf-8")


def mutated(text: str) -> st.SearchStrategy[bytes]:
    """A valid file with lines dropped, repeated or cut: close to right, the likeliest mistake."""
    lines = text.splitlines(keepends=True)

    def edit(choices: list[int]) -> bytes:
        out = list(lines)
        for choice in choices:
            index = choice % len(out) if out else 0
            kind = choice % 3
            if not out:
                break
            if kind == 0:
                del out[index]
            elif kind == 1:
                out.insert(index, out[index])
            else:
                out[index] = out[index][: len(out[index]) // 2] + "\n"
        return "".join(out).encode("utf-8")

    return st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6).map(edit)


def accepted_or_refused(url: str, *args: str, env: dict[str, str | None] | None = None) -> None:
    before = counts(url)
    code, output = run(url, *args, env=env)
    assert code in (0, 2), output
    assert "Traceback" not in output
    if code == 2:
        assert counts(url) == before, output


def feeder(tmp_path: Path, name: str) -> Any:
    def write(content: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


def test_workflow_definitions(demo: str, tmp_path: Path) -> None:
    write = feeder(tmp_path, "definition.yaml")
    valid = (Path(__file__).parents[2] / "workflows" / "definitions" / "village-venue.v2.yaml").read_text()

    @FUZZ
    @given(st.one_of(raw, documents.map(as_yaml), mutated(valid.replace("version: 2", "version: 7"))))
    def check(content: bytes) -> None:
        accepted_or_refused(demo, "workflows", "load", str(write(content)), "--at", AT)

    check()


def test_inspection_forms(demo: str, tmp_path: Path) -> None:
    write = feeder(tmp_path, "form.yaml")
    blank = ok(demo, "inspect", "new", "P008", "--template", "in-progress", "--inspector", "13900000002")

    @FUZZ
    @given(st.one_of(raw, documents.map(as_yaml), mutated(blank)))
    def check(content: bytes) -> None:
        accepted_or_refused(demo, "inspect", "record", str(write(content)), "--at", AT)

    check()


def test_registers(demo: str, tmp_path: Path) -> None:
    header = "town,village,leader,leader_phone,leader_email,specialist,specialist_phone,specialist_email,"
    valid = header + "budget_upper,budget_district,planned_start,planned_finish\n"
    valid += "东镇,甲村,张三,13500000001,,李四,13600000001,,100,10,2026-12-01,2027-05-31\n"

    @FUZZ
    @given(st.one_of(raw, mutated(valid)), st.sampled_from(["register.csv", "register.xlsx"]))
    def check(content: bytes, name: str) -> None:
        accepted_or_refused(demo, "import", "projects", str(feeder(tmp_path, name)(content)), "--at", AT)

    check()


def test_holiday_files(demo: str, tmp_path: Path) -> None:
    folder = tmp_path / "holidays"
    folder.mkdir()
    write = feeder(folder, "2028.yaml")
    valid = (
        "year: 2028\nsource: 国务院办公厅\n"
        "holidays:\n  - {name: 元旦, date: 2028-01-01}\nadjusted_working_days: []\n"
    )

    @FUZZ
    @given(st.one_of(raw, documents.map(as_yaml), mutated(valid)))
    def check(content: bytes) -> None:
        write(content)
        env = {"DUCHA_HOLIDAY_DIR": str(folder)}
        code, output = run(demo, "calendar", "check", "2028", env=env)
        assert code in (0, 1, 2), output  # 1: a finding (the year is not covered)
        accepted_or_refused(demo, "sweep", "--at", AT, env=env)

    check()


def test_evidence_files(demo: str, tmp_path: Path) -> None:
    order = js(demo, "orders", "--open", "--at", AT)["data"][0]
    owner = str(order["responsible_person_id"])

    @FUZZ
    @given(raw, st.sampled_from(["fix.png", "fix.jpg", "fix.pdf", "fix.webp", "fix"]))
    def check(content: bytes, name: str) -> None:
        path = feeder(tmp_path, name)(content)
        code, output = run(
            demo, "orders", "respond", str(order["id"]), "--evidence", str(path), "--as", owner, "--at", AT
        )
        assert code == 2, output  # random bytes are no photo
        assert "Traceback" not in output

    check()
