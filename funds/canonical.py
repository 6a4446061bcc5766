"""The canonical encoding of a ledger entry: RFC 8785 (JSON Canonicalization Scheme) JSON.

An entry's document holds only objects, arrays, strings, integers (within ±(2^53 − 1), so that every
JSON reader agrees on them), true, false and null; its keys are ASCII. For such documents RFC 8785
is: keys sorted, no whitespace, strings as UTF-8 with only ``"``, ``\\``, and the control characters
escaped (``\\b \\f \\n \\r \\t``, others as ``\\u00xx``), integers in decimal. That is exactly what
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes for them, which is
what ``encode`` does after checking the values. The entry's hash is the SHA-256 of those bytes.

The document of an entry (version 1), every key present:

    v            1
    log          the log's origin (the first line of its checkpoints)
    seq          the entry's place in the log, from 0
    prev         the hash (hex) of entry seq − 1; "" for the first
    op, part     the client's operation id, and which entry of the operation (a reclassification has two)
    kind         receive, allocate, disburse, commit, pay, void, spend, payable, refund, reverse, reclassify
    fund         the funding source's code: every line is in this fund's accounts
    project      the project's code, or null;  vendor: {"name", "small_firm"} or null;  category or null
    amount       the operation's amount in fen (> 0)
    voucher, invoice, memo   text or null
    documents    [{"sha256", "name"}]: files in the evidence store, by the SHA-256 of their bytes
    actor        {"id", "name"} of who recorded it, or null (the system)
    occurred_at, recorded_at   UTC, RFC 3339 with "Z"
    refs         {"reverses", "settles", "payable", "linked"}: seq of another entry of the log, or null
    approval     {"by": {"id", "name"}, "ref": text or null} or null
    override     {"by": {"id", "name"}, "reason": text} or null: the office let it exceed the allocation
    lines        [{"account", "amount", "balance"}]: account code, signed fen (debit > 0, credit < 0),
                 the account's balance after the line; the amounts add up to 0
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

SAFE_INTEGER = 2**53 - 1
VERSION = 1


def check(value: Any, where: str = "document") -> None:
    """Refuse what RFC 8785 would encode differently from ``json.dumps`` (floats, huge integers)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > SAFE_INTEGER:
            raise ValueError(f"{where}: {value} is outside ±(2^53 − 1)")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise ValueError(f"{where}: key {key!r} is not ASCII text")
            check(item, f"{where}.{key}")
        return
    if isinstance(value, list):
        for number, item in enumerate(value):
            check(item, f"{where}[{number}]")
        return
    raise ValueError(f"{where}: {type(value).__name__} has no canonical form here")


def encode(document: Mapping[str, Any]) -> str:
    """The canonical text of a checked document."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


_IN_ORDER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def encode_in_order(document: Mapping[str, Any]) -> str:
    """The canonical text of a document built with its keys already in sorted order (faster)."""
    return _IN_ORDER(document)


def digest(body: str) -> str:
    """The entry hash: SHA-256 of the canonical text's UTF-8 bytes, in hex."""
    return hashlib.sha256(body.encode()).hexdigest()


def instant(moment: datetime) -> str:
    """An aware time as the documents write it: UTC, RFC 3339, "Z" (microseconds when there are any)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
