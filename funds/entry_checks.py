"""The checks of one entry against the one before it: hash, chain, the columns queries read, its lines
and the balances they leave, and its leaf in the tree (funds/verify.py streams the entries here)."""

import json
from typing import Any

from funds.canonical import digest, instant
from funds.merkle import leaf_hash

LEAF_PROBLEM = "its leaf in the Merkle tree is missing or differs from its hash"


class BadEntry(Exception):
    """What is wrong with an entry (verify names it with the entry)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _agree(row: Any, doc: dict[str, Any], names: dict[str, dict[int, Any]]) -> None:
    """The columns queries read say what the hashed document says (checked cheaply, explained if not)."""
    actor = doc["actor"]
    refs = doc["refs"]
    if (
        row.kind == doc["kind"]
        and row.amount_fen == doc["amount"]
        and row.category == doc["category"]
        and row.voucher == doc["voucher"]
        and row.invoice == doc["invoice"]
        and row.op_id == doc["op"]
        and row.op_part == doc["part"]
        and row.actor_id == (actor["id"] if actor else None)
        and names["fund"].get(row.fund_id) == doc["fund"]
        and (names["project"].get(row.project_id) if row.project_id is not None else None) == doc["project"]
        and row.reverses_seq == refs["reverses"]
        and row.settles_seq == refs["settles"]
        and row.payable_seq == refs["payable"]
        and row.linked_seq == refs["linked"]
        and bool(row.override) == (doc["override"] is not None)
        and (row.vendor_id is None) == (doc["vendor"] is None)
        and instant(row.occurred_at) == doc["occurred_at"]
        and instant(row.recorded_at) == doc["recorded_at"]
    ):
        if row.vendor_id is None:
            return
        name, small = names["vendor"].get(row.vendor_id, (None, None))
        if {"name": name, "small_firm": bool(small)} == doc["vendor"]:
            return
    _disagree(row, doc, names)


def _disagree(row: Any, doc: dict[str, Any], names: dict[str, dict[int, Any]]) -> None:
    vendor = names["vendor"].get(row.vendor_id) if row.vendor_id is not None else None
    expected = {
        "kind": (row.kind, doc["kind"]),
        "fund": (names["fund"].get(row.fund_id), doc["fund"]),
        "op": ((row.op_id, row.op_part), (doc["op"], doc["part"])),
        "project": (
            names["project"].get(row.project_id) if row.project_id is not None else None,
            doc["project"],
        ),
        "vendor": ({"name": vendor[0], "small_firm": bool(vendor[1])} if vendor else None, doc["vendor"]),
        "category": (row.category, doc["category"]),
        "amount": (row.amount_fen, doc["amount"]),
        "voucher": (row.voucher, doc["voucher"]),
        "invoice": (row.invoice, doc["invoice"]),
        "actor": (row.actor_id, doc["actor"]["id"] if doc["actor"] else None),
        "occurred_at": (instant(row.occurred_at), doc["occurred_at"]),
        "recorded_at": (instant(row.recorded_at), doc["recorded_at"]),
        "refs": (
            {
                "reverses": row.reverses_seq,
                "settles": row.settles_seq,
                "payable": row.payable_seq,
                "linked": row.linked_seq,
            },
            doc["refs"],
        ),
        "override": (bool(row.override), doc["override"] is not None),
    }
    for name, (stored, documented) in expected.items():
        if stored != documented:
            raise BadEntry(
                f"its {name} column says {stored!r}, its hashed document {documented!r} (changed since)"
            )


def check_entry(
    row: Any, lines: list[Any], expected_seq: int, prev: str, origin: str, names: dict[str, dict[int, Any]],
    balances: dict[str, int],
) -> dict[str, Any]:  # fmt: skip
    if row.seq != expected_seq:
        raise BadEntry(
            f"missing: the log jumps from entry {expected_seq - 1} to {row.seq} (an entry was removed)"
        )
    if digest(row.body) != row.entry_hash:
        raise BadEntry("its hash does not match its document: the entry was edited after it was recorded")
    # The hash binds these exact bytes; that they are canonical JSON is the offline verifier's check.
    doc: dict[str, Any] = json.loads(row.body)
    if doc["log"] != origin or doc["seq"] != row.seq:
        raise BadEntry(
            f"its document says it is entry {doc['seq']} of {doc['log']}: entries were reordered or moved"
        )
    if doc["prev"] != prev:
        raise BadEntry(
            f"its document follows a different entry {row.seq - 1} (prev hash {doc['prev'][:12]}…, "
            f"the log has {prev[:12]}…): an entry before it was changed, removed, inserted or reordered"
        )
    for ref in doc["refs"].values():
        if ref is not None and not 0 <= ref < row.seq and doc["kind"] != "reclassify":
            raise BadEntry(f"it names entry {ref}, which does not come before it")
    _agree(row, doc, names)
    documented = doc["lines"]
    if len(lines) != len(documented) or [line.position for line in lines] != list(range(len(lines))):
        raise BadEntry(
            f"it has {len(lines)} line rows, its document {len(documented)} lines "
            "(a line was added or removed)"
        )
    if sum(line["amount"] for line in documented) != 0:
        raise BadEntry("its lines do not add up to zero")
    for stored, line in zip(lines, documented, strict=True):
        code, fund_id = names["account"].get(stored.account_id, (None, None))
        if (code, stored.amount_fen, stored.balance_fen) != (
            line["account"],
            line["amount"],
            line["balance"],
        ):
            raise BadEntry(
                f"line {stored.position} says {code} {stored.amount_fen} (balance {stored.balance_fen}), "
                f"its document {line['account']} {line['amount']} (balance {line['balance']}): changed since"
            )
        if fund_id != row.fund_id:
            raise BadEntry(f"line {stored.position} is in another fund's account {code} (专款专用)")
        balance = balances.get(code, 0) + line["amount"]
        if balance != line["balance"]:
            raise BadEntry(f"{code} holds {balance} after it, not {line['balance']} as recorded")
        balances[code] = balance
    if row.hash is None or bytes(row.hash) != leaf_hash(bytes.fromhex(row.entry_hash)):
        raise BadEntry(LEAF_PROBLEM)
    return doc
