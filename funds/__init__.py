"""The money trail: a double-entry ledger per earmarked fund, its Merkle log and signed checkpoints.

Each funding source of a programme is its own ledger (专款专用). Entries are appended to the
programme's log (``journal``), each a canonical document (``canonical``) whose hash chains to the one
before and is a leaf of an RFC 9162 Merkle tree (``merkle``, ``tree``); checkpoints of the tree are
signed notes (``note``, ``checkpoints``). ``operations`` turns what people do (allocate, disburse,
commit, pay, spend …) into balanced entries; ``verify`` recomputes everything; ``reads`` and
``export`` are what auditors read; ``audit_rules`` (the rules as data, ``audit_rules.yaml``) with
``audit_facts`` and ``audit_timing`` (what each rule finds) are the fund audit. ``verify_trail.py``
checks an export with nothing of ducha.

Domain code: it takes the session and ``now``, never commits, never reads the clock.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from funds.checkpoints import sign_checkpoints as sign_checkpoints
    from funds.export import export_trail as export_trail
    from funds.note import Signer as Signer
    from funds.note import Verifier as Verifier
    from funds.reads import balances as balances
    from funds.reads import entry_facts as entry_facts
    from funds.reads import summary as summary
    from funds.reads import trail as trail
    from funds.verify import verify_ledger as verify_ledger

_WHERE = {
    "sign_checkpoints": "funds.checkpoints",
    "export_trail": "funds.export",
    "Signer": "funds.note",
    "Verifier": "funds.note",
    "balances": "funds.reads",
    "entry_facts": "funds.reads",
    "summary": "funds.reads",
    "trail": "funds.reads",
    "verify_ledger": "funds.verify",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
