"""Checklist inspections, findings and rectification orders (事前审查, 事中检查, 事后验收, 限期整改).

Checklist templates (``templates``, kept in the database by ``loaded_templates``), recording a
filled form (``recording``) and signing it (``signing``: findings become orders), scoring,
evidence files, orders and their loop, and 四不两直 spot-check draws (``risk`` weighs, ``spot_checks``
records). The lifecycle asks ``queries`` for its guards.

Public names are re-exported here, lazily (importing the package loads nothing heavy).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspections.evidence import (
        EvidenceBatch as EvidenceBatch,
    )
    from inspections.evidence import (
        EvidenceRejected as EvidenceRejected,
    )
    from inspections.evidence import (
        EvidenceStore as EvidenceStore,
    )
    from inspections.loaded_templates import (
        UnknownTemplate as UnknownTemplate,
    )
    from inspections.loaded_templates import (
        get_template as get_template,
    )
    from inspections.loaded_templates import (
        load_template as load_template,
    )
    from inspections.orders import (
        OrderRefused as OrderRefused,
    )
    from inspections.orders import (
        OrderRow as OrderRow,
    )
    from inspections.orders import (
        list_orders as list_orders,
    )
    from inspections.orders import (
        respond as respond,
    )
    from inspections.orders import (
        verify as verify,
    )
    from inspections.queries import (
        current_signed as current_signed,
    )
    from inspections.queries import (
        list_inspections as list_inspections,
    )
    from inspections.recording import (
        InspectionRefused as InspectionRefused,
    )
    from inspections.recording import (
        Recorded as Recorded,
    )
    from inspections.recording import (
        record_inspection as record_inspection,
    )
    from inspections.risk import (
        RiskPolicy as RiskPolicy,
    )
    from inspections.risk import (
        draw as draw,
    )
    from inspections.risk import (
        risk_weight as risk_weight,
    )
    from inspections.scoring import (
        ResultError as ResultError,
    )
    from inspections.scoring import (
        ScoreCard as ScoreCard,
    )
    from inspections.scoring import (
        score_inspection as score_inspection,
    )
    from inspections.signing import (
        Signed as Signed,
    )
    from inspections.signing import (
        sign_inspection as sign_inspection,
    )
    from inspections.spot_checks import (
        draw_spot_check as draw_spot_check,
    )
    from inspections.spot_checks import (
        replay as replay,
    )
    from inspections.templates import (
        ChecklistTemplate as ChecklistTemplate,
    )
    from inspections.templates import (
        parse_template as parse_template,
    )

_WHERE = {
    "ChecklistTemplate": "inspections.templates",
    "parse_template": "inspections.templates",
    "get_template": "inspections.loaded_templates",
    "load_template": "inspections.loaded_templates",
    "UnknownTemplate": "inspections.loaded_templates",
    "record_inspection": "inspections.recording",
    "InspectionRefused": "inspections.recording",
    "Recorded": "inspections.recording",
    "sign_inspection": "inspections.signing",
    "Signed": "inspections.signing",
    "list_orders": "inspections.orders",
    "respond": "inspections.orders",
    "verify": "inspections.orders",
    "OrderRefused": "inspections.orders",
    "OrderRow": "inspections.orders",
    "score_inspection": "inspections.scoring",
    "ScoreCard": "inspections.scoring",
    "ResultError": "inspections.scoring",
    "EvidenceStore": "inspections.evidence",
    "EvidenceBatch": "inspections.evidence",
    "EvidenceRejected": "inspections.evidence",
    "draw_spot_check": "inspections.spot_checks",
    "replay": "inspections.spot_checks",
    "risk_weight": "inspections.risk",
    "draw": "inspections.risk",
    "RiskPolicy": "inspections.risk",
    "list_inspections": "inspections.queries",
    "current_signed": "inspections.queries",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
