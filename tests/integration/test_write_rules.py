"""Who may write what: separation of duties, and an extension that moves what it extends."""

import json
from pathlib import Path

from ducha.demo.inspections import photo
from tests.integration.conftest import js, ok, run

OFFICE_HEAD, INSPECTOR = "13900000001", "13900000002"
AT = "2026-12-10T09:00+08:00"


def test_whoever_responded_to_an_order_does_not_verify_it(demo: str, tmp_path: Path) -> None:
    order = js(demo, "orders", "--open", "--at", AT)["data"][0]
    fix = tmp_path / "fix.png"
    fix.write_bytes(photo("fixed by the office itself", 9))
    ok(demo, "orders", "respond", str(order["id"]), "--evidence", str(fix), "--as", OFFICE_HEAD, "--at", AT)
    code, output = run(
        demo, "orders", "verify", str(order["id"]), "--accept", "--as", OFFICE_HEAD, "--at", AT
    )
    assert code == 2 and "responded to order" in output and "separation of duties" in output
    ok(demo, "orders", "verify", str(order["id"]), "--accept", "--as", INSPECTOR, "--at", AT)


def overdue(url: str, what: str) -> list[dict[str, object]]:
    """The overdue orders or deadlines (the command exits 1 when there are any)."""
    code, output = run(url, what, "--overdue", "--json", "--at", AT)
    found = list(json.loads(output)["data"])
    assert code == (1 if found else 0), output
    return found


def test_extending_an_orders_deadline_moves_the_order_too(demo: str) -> None:
    late = overdue(demo, "orders")
    assert [o["item_key"] for o in late] == ["earmark"]
    deadline = next(d for d in overdue(demo, "deadlines") if d["order_id"] == late[0]["id"])
    ok(demo, "deadlines", "extend", str(deadline["id"]), "--to", "2026-12-18", "--as", OFFICE_HEAD,
       "--reason", "资金拨付延迟", "--at", AT)  # fmt: skip
    assert overdue(demo, "orders") == []
    assert not [d for d in overdue(demo, "deadlines") if d["order_id"] == late[0]["id"]]
    moved = next(o for o in js(demo, "orders", "--at", AT)["data"] if o["id"] == late[0]["id"])
    assert moved["due_at"] == "2026-12-18T15:59:59.999999+00:00"  # the end of 18 December, Shanghai time


def test_an_order_never_moves_before_its_last_recorded_event(demo: str, tmp_path: Path) -> None:
    order = js(demo, "orders", "--open", "--at", AT)["data"][0]
    fix = tmp_path / "fix.png"
    fix.write_bytes(photo("fixed", 4))
    responder = str(order["responsible_person_id"])
    code, output = run(
        demo, "orders", "respond", str(order["id"]), "--evidence", str(fix), "--as", responder,
        "--at", "2026-11-01T09:00+08:00",
    )  # fmt: skip
    assert code == 2 and "is before its last recorded event" in output, output
    ok(demo, "orders", "respond", str(order["id"]), "--evidence", str(fix), "--as", responder, "--at", AT)
    code, output = run(
        demo,
        "orders",
        "verify",
        str(order["id"]),
        "--accept",
        "--as",
        INSPECTOR,
        "--at",
        "2026-12-09T09:00+08:00",
    )
    assert code == 2 and "is before its last recorded event" in output, output
    assert js(demo, "orders", "--at", AT)["data"][0]["status"] == "responded"
