"""The money trail: a double-entry ledger per earmarked fund, its Merkle log and signed checkpoints.

Each funding source of a programme is its own ledger (专款专用). Entries are appended to the
programme's log (``journal``), each a canonical document (``canonical``) whose hash chains to the one
before and is a leaf of an RFC 9162 Merkle tree (``merkle``, ``tree``); checkpoints of the tree are
signed notes (``note``, ``checkpoints``). ``operations`` turns what people do (allocate, disburse,
commit, pay, spend …) into balanced entries; ``verify`` recomputes everything; ``reads`` and
``export`` are what auditors read. ``verify_trail.py`` checks an export with nothing of ducha.

Domain code: it takes the session and ``now``, never commits, never reads the clock.
"""
