"""Beancount names and strings made from the ledger's codes and texts, read back by Beancount itself."""

from beancount import loader
from beancount.core.data import Transaction

from funds.ledger_beancount import account_name, component, quoted, yuan


def test_every_ledger_account_has_a_beancount_name() -> None:
    assert account_name("upper", "source", None, None, None) == "Income:Upper:Source"
    assert account_name("upper", "pool", None, None, None) == "Assets:Upper:Pool"
    assert account_name("district", "bank", "P008", None, None) == "Assets:District:Bank:P008"
    assert (
        account_name("upper", "expense", "P008", "construction", None) == "Expenses:Upper:P008:Construction"
    )
    assert account_name("upper", "payable", "P004", None, 1) == "Liabilities:Upper:Payable:P004:V1"
    assert [component(text) for text in ("a_b", "-x", "2026批", "Z")] == ["A-b", "X-x", "2026-", "Z"]


def test_texts_and_amounts_read_back_as_written() -> None:
    memo = 'say "no" to C:\\temp\n\tand tabs'
    text = f"""
2026-01-01 open Assets:Upper:Bank:P008 CNY
2026-01-01 open Income:Upper:Source CNY
2026-01-02 * {quoted("华建")} {quoted(memo)} ^e1
  voucher: {quoted('付-"1"')}
  Assets:Upper:Bank:P008  {yuan(1)} CNY
  Income:Upper:Source  {yuan(-1)} CNY
2026-01-03 balance Assets:Upper:Bank:P008  0.01 ~ 0 CNY
"""
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    transaction = entries[2]
    assert isinstance(transaction, Transaction)
    assert transaction.narration == 'say "no" to C:\\temp and tabs'
    assert transaction.payee == "华建" and transaction.meta["voucher"] == '付-"1"'
    assert [yuan(n) for n in (0, 1, 10, -1, 3_694_000)] == ["0.00", "0.01", "0.10", "-0.01", "36940.00"]
