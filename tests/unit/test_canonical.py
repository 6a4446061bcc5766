"""The canonical encoding of entries (RFC 8785 for documents of strings, integers, null and booleans)."""

import hashlib
from datetime import UTC, datetime

import pytest

from funds.canonical import check, digest, encode, encode_in_order
from funds.journal import Account, Draft, Who, document_of

T0 = datetime(2026, 12, 1, 1, 0, 0, 123456, tzinfo=UTC)
VENDOR = '华建 "建筑"\n公司'
MEMO = "含控制字符\u0001与表情😀"


def full_draft() -> Draft:
    bank, spent = Account(7, "upper/bank/P001", 1), Account(9, "upper/expense/P001/construction", 1)
    return Draft(
        kind="pay",
        fund_id=1,
        fund_code="upper",
        op_id="op-1",
        amount_fen=123_456,
        postings=[(spent, 123_456), (bank, -123_456)],
        occurred_at=T0,
        recorded_at=T0.replace(second=9),
        actor=Who(3, "王明"),
        project_id=1,
        project_code="P001",
        vendor_id=2,
        vendor={"name": VENDOR, "small_firm": True},
        category="construction",
        voucher="记-01",
        invoice="FP\t1",
        memo=MEMO,
        documents=[{"name": "发票.png", "sha256": "ab" * 32}],
        settles=4,
        approval={"by": {"id": 5, "name": "李"}, "ref": "批-1"},
        override={"by": {"id": 3, "name": "王明"}, "reason": "急"},
    )


def test_the_append_path_writes_exactly_the_canonical_text() -> None:
    document = document_of(full_draft(), origin="ducha/programme/1", seq=17, prev="cd" * 32, balances=[5, -5])
    check(document)
    text = encode(document)
    assert encode_in_order(document) == text
    assert text.startswith('{"actor":{"id":3,"name":"王明"},"amount":123456,"approval":{"by":{"id":5,')
    assert '"memo":"含控制字符\\u0001与表情😀"' in text  # control characters escaped, the rest as UTF-8
    assert '"name":"华建 \\"建筑\\"\\n公司"' in text and '"invoice":"FP\\t1"' in text
    assert '"occurred_at":"2026-12-01T01:00:00.123456Z","op":"op-1"' in text
    assert '"recorded_at":"2026-12-01T01:00:09.123456Z"' in text
    assert '"refs":{"linked":null,"payable":null,"reverses":null,"settles":4}' in text
    assert digest(text) == hashlib.sha256(text.encode()).hexdigest()


def test_what_has_no_canonical_form_here_is_refused() -> None:
    with pytest.raises(ValueError, match="float has no canonical form"):
        check({"amount": 1.5})
    with pytest.raises(ValueError, match="outside"):
        check({"amount": 2**53})
    with pytest.raises(ValueError, match="not ASCII"):
        check({"金额": 1})
    check({"amount": 2**53 - 1, "ok": [True, None, "x"]})
