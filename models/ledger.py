"""The fund ledger (台账 of money): accounts per fund, journal entries and their lines, the Merkle log.

Each funding source of a programme is its own ledger (专款专用): every account belongs to one fund and
every entry's lines are in the accounts of its fund and add up to zero. A programme's entries form one
append-only log (``seq`` 0, 1, 2 …): each entry's canonical document (``body``, RFC 8785 JSON, see
funds/canonical.py) holds the previous entry's hash and is hashed into ``entry_hash``, which is a leaf
of the programme's RFC 9162 Merkle tree (``merkle_node``: every complete subtree, level 0 the leaves).
Signed checkpoints of the tree (``ledger_checkpoint``) let an auditor prove nothing was changed,
removed or reordered afterwards. Every table here is append-only by trigger (migration 0009).
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime

LEDGER_TABLES = (
    "ledger_log",
    "vendor",
    "expense_category",
    "ledger_account",
    "journal_entry",
    "journal_line",
    "merkle_node",
    "ledger_checkpoint",
)


class LedgerLog(SQLModel, table=True):
    """A programme's log: its origin (the first line of its checkpoints). Its row is what an append
    locks first, so that entries of one programme take turns for their place in the log."""

    __tablename__ = "ledger_log"

    programme_id: int = Field(sa_column=Column(Integer, ForeignKey("programme.id"), primary_key=True))
    origin: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Vendor(SQLModel, table=True):
    """Someone a project pays (a construction firm, a supplier); ``small_firm``: 中小企业, whose
    payables fall under 保障中小企业款项支付条例."""

    __tablename__ = "vendor"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    small_firm: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ExpenseCategory(SQLModel, table=True):
    """What a programme's money may be spent on: ``earmarked`` categories are its declared purpose."""

    __tablename__ = "expense_category"
    __table_args__ = (UniqueConstraint("programme_id", "code", name="uq_expense_category_code"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False))
    code: str = Field(sa_column=Column(String(32), nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    earmarked: bool = Field(sa_column=Column(Boolean, nullable=False))


class LedgerAccount(SQLModel, table=True):
    """One account of one fund: the source, the programme pool, a project's allocation, bank account,
    reservations, expenses by category, or payables to a vendor. ``code`` names it in the documents."""

    __tablename__ = "ledger_account"
    __table_args__ = (UniqueConstraint("programme_id", "code", name="uq_ledger_account_code"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False))
    fund_id: int = Field(sa_column=Column(Integer, ForeignKey("funding_source.id"), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    project_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("project.id"), nullable=True, index=True)
    )
    vendor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("vendor.id"), nullable=True)
    )
    category: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    code: str = Field(sa_column=Column(String(300), nullable=False))


class JournalEntry(SQLModel, table=True):
    """One balanced entry of one fund, at position ``seq`` of its programme's log.

    ``body`` is the entry's canonical document, the record that is hashed; the other columns repeat
    what queries need from it (``ducha audit verify`` checks that they agree). Other entries are
    named by their ``seq`` in the same log, as the documents name them.
    """

    __tablename__ = "journal_entry"
    __table_args__ = (
        UniqueConstraint("op_id", "op_part", name="uq_journal_entry_op"),
        # One reversal per entry, one settlement (pay or void) per commitment.
        UniqueConstraint("programme_id", "reverses_seq", name="uq_journal_entry_reverses"),
        UniqueConstraint("programme_id", "settles_seq", name="uq_journal_entry_settles"),
        CheckConstraint("amount_fen > 0", name="ck_journal_entry_amount"),
        Index("ix_journal_entry_project", "project_id", "occurred_at"),
        Index("ix_journal_entry_vendor", "vendor_id", "occurred_at"),
        Index("ix_journal_entry_payable", "programme_id", "payable_seq"),
    )

    programme_id: int = Field(sa_column=Column(Integer, ForeignKey("programme.id"), primary_key=True))
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    fund_id: int = Field(sa_column=Column(Integer, ForeignKey("funding_source.id"), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    op_id: str = Field(sa_column=Column(String(100), nullable=False))
    op_part: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False))
    project_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("project.id"), nullable=True)
    )
    vendor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("vendor.id"), nullable=True)
    )
    category: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    voucher: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    invoice: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reverses_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    settles_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    payable_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    linked_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    override: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    entry_hash: str = Field(sa_column=Column(String(64), nullable=False))


class JournalLine(SQLModel, table=True):
    """One line of an entry: ``amount_fen`` debits (> 0) or credits (< 0) an account, which then holds
    ``balance_fen``."""

    __tablename__ = "journal_line"
    __table_args__ = (
        ForeignKeyConstraint(
            ["programme_id", "entry_seq"], ["journal_entry.programme_id", "journal_entry.seq"]
        ),
        CheckConstraint("amount_fen <> 0", name="ck_journal_line_amount"),
        Index("ix_journal_line_account", "account_id", "entry_seq"),
    )

    programme_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    entry_seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    position: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("ledger_account.id"), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class MerkleNode(SQLModel, table=True):
    """The hash of a complete subtree of a programme's log, leaves ``idx·2^level`` to
    ``(idx+1)·2^level − 1``, stored under ``node`` = level·2^40 + idx (level 0: the leaf hashes). One
    integer key makes the O(log n) nodes a proof needs one ``IN`` on the primary key."""

    __tablename__ = "merkle_node"

    programme_id: int = Field(sa_column=Column(Integer, ForeignKey("programme.id"), primary_key=True))
    node: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LedgerCheckpoint(SQLModel, table=True):
    """A signed checkpoint of a programme's log (C2SP tlog-checkpoint in a signed note)."""

    __tablename__ = "ledger_checkpoint"
    __table_args__ = (Index("ix_ledger_checkpoint_log", "programme_id", "tree_size"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False))
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    signed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Why it was signed: "entries" (64 since the last), "interval", "daily", "export", "manual".
    reason: str = Field(sa_column=Column(String(16), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
