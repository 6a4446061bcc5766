"""The kinds of ledger account, apart from ``funds.accounts`` (which finds and makes accounts with
SQLAlchemy), so that what reads balances without it (``ducha audit summary``) names them too."""

from enum import StrEnum


class Kind(StrEnum):
    SOURCE = "source"  # the money a level of government gives (credit: how much came)
    POOL = "pool"  # the programme's money of one fund, not yet allocated
    INTERFUND = "interfund"  # a reclassification's clearing account between two funds
    ALLOCATION = "allocation"  # a project's allocation, not yet disbursed
    BANK = "bank"  # a project's bank account: disbursed, not yet spent or reserved
    RESERVED = "reserved"  # approved payments not yet made
    EXPENSE = "expense"  # spent, by category
    PAYABLE = "payable"  # owed to a vendor for goods or works accepted (credit)


PROJECT_KINDS = (Kind.ALLOCATION, Kind.BANK, Kind.RESERVED, Kind.EXPENSE, Kind.PAYABLE)
