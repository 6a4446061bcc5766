"""Load everything ducha ships: workflow definitions and checklist templates."""

from datetime import datetime

from sqlmodel import Session

from inspections.loaded_templates import load_builtin_templates
from workflows.definition import load_builtin_definitions


def load_builtins(*, session: Session, now: datetime) -> list[str]:
    """Keep every built-in definition and template (idempotent); say what is loaded."""
    definitions = load_builtin_definitions(session=session, now=now)
    templates = load_builtin_templates(session=session, now=now)
    return [f"{r.key} v{r.version}" for r in definitions] + [
        f"checklist {r.key} v{r.version}" for r in templates
    ]
