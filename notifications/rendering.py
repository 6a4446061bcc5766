"""Notice templates (Jinja2, StrictUndefined): a subject, a plain-text body and an HTML body each.

One file per template and language, ``notifications/templates/<lang>/<name>.j2``, with three blocks
(``subject``, ``text``, ``html``); an office overrides one with a file of the same name in
``DUCHA_TEMPLATE_DIR/<lang>/``. A missing variable is an error, never a blank in a letter; the HTML
block is escaped, the text ones are not. Dates, times and money are written the way the language
writes them (2026年12月31日 17:30, ¥36,940.00). An override is checked when it is loaded: rendered
with sample data, its subject one line, its text within what the tightest chat channel takes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from models.errors import BadInput
from models.localtime import local

BUILT_IN = Path(__file__).parent / "templates"
LANGS = ("zh", "en")
TEMPLATES = (
    "reminder",  # 临期提醒: the upcoming level
    "due",  # 到期提醒: the due level
    "overdue",  # 逾期通知
    "supervision",  # 督办函: the escalation levels; acknowledged in the inbox
    "rectification",  # 整改通知书: an order issued
    "acceptance",  # 验收结果
    "digest",  # 每日待办汇总
    "channel_failure",  # to the admins: a channel refused a notice for good
    "checkpoint",  # 签名检查点: the ledger's latest signed checkpoint, to the auditors each day
)
# The WeCom group robot takes 4,096 bytes of markdown: the tightest of the chat channels.
TEXT_LIMIT_BYTES = 4096
SUBJECT_LIMIT = 200


@dataclass(frozen=True)
class Rendered:
    template: str
    lang: str
    template_hash: str
    subject: str
    text: str
    html: str


_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _filters(lang: str) -> dict[str, Any]:
    def when(moment: datetime) -> str:
        at = local(moment)
        if lang == "zh":
            return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"
        return f"{at.day} {at:%b %Y %H:%M}"

    def day(moment: datetime) -> str:
        at = local(moment)
        return (
            f"{at.year}年{at.month}月{at.day}日"
            if lang == "zh"
            else f"{_WEEKDAYS_EN[at.weekday()]} {at.day} {at:%b %Y}"
        )

    def clock(moment: datetime) -> str:
        return f"{local(moment):%H:%M}"

    def yuan(fen: int) -> str:
        sign = "-" if fen < 0 else ""
        whole, cents = divmod(abs(int(fen)), 100)
        return f"{sign}¥{whole:,}.{cents:02d}"

    def working_days(count: int) -> str:
        if lang == "zh":
            return f"{count} 个工作日"
        return f"{count} working day" + ("" if count == 1 else "s")

    return {"when": when, "day": day, "clock": clock, "yuan": yuan, "working_days": working_days}


class Templates:
    """The templates of one installation: the built-in ones and the office's overrides."""

    def __init__(self, override_dir: Path | None = None) -> None:
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

        self.override_dir = override_dir
        roots = [str(override_dir)] if override_dir is not None else []
        loader = ChoiceLoader([FileSystemLoader([*roots, str(BUILT_IN)])])
        self._plain = {
            lang: Environment(loader=loader, undefined=StrictUndefined, autoescape=False) for lang in LANGS
        }
        self._html = {
            lang: Environment(loader=loader, undefined=StrictUndefined, autoescape=True) for lang in LANGS
        }
        for lang in LANGS:
            for environment in (self._plain[lang], self._html[lang]):
                environment.filters.update(_filters(lang))
        self._compiled: dict[tuple[str, str], tuple[Any, Any, str]] = {}
        if override_dir is not None:
            self.check_overrides()

    def source(self, name: str, lang: str) -> tuple[str, Path]:
        """The text of a template, from the override directory if the office has its own, and where."""
        for root in ([self.override_dir] if self.override_dir else []) + [BUILT_IN]:
            path = root / lang / f"{name}.j2"
            if path.is_file():
                return path.read_text(encoding="utf-8"), path
        raise BadInput(f"no notice template {name!r} in {lang!r} (templates: {', '.join(TEMPLATES)})")

    def _get(self, name: str, lang: str) -> tuple[Any, Any, str]:
        key = (name, lang)
        if key not in self._compiled:
            if name not in TEMPLATES or lang not in LANGS:
                raise BadInput(f"no notice template {name!r} in {lang!r} (templates: {', '.join(TEMPLATES)})")
            text, _ = self.source(name, lang)
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            template_name = f"{lang}/{name}.j2"
            self._compiled[key] = (
                self._plain[lang].get_template(template_name),
                self._html[lang].get_template(template_name),
                digest,
            )
        return self._compiled[key]

    def render(self, name: str, lang: str, context: Mapping[str, Any]) -> Rendered:
        """Render the three parts of ``name`` in ``lang``; a missing variable raises (a bug, or an
        override that names what ducha does not give)."""
        plain, html, digest = self._get(name, lang if lang in LANGS else "zh")
        text_context = plain.new_context(dict(context))
        html_context = html.new_context(dict(context))
        subject = "".join(plain.blocks["subject"](text_context)).strip()
        body = "".join(plain.blocks["text"](text_context)).strip()
        markup = "".join(html.blocks["html"](html_context)).strip()
        return Rendered(
            name, lang if lang in LANGS else "zh", digest, " ".join(subject.split()), body, markup
        )

    def check_overrides(self) -> None:
        """Render every override with sample data: a missing or misspelt variable, a broken block,
        a subject over one line or a text past what a chat channel takes is refused, naming the file."""
        from jinja2 import TemplateError

        assert self.override_dir is not None
        problems = []
        for lang in LANGS:
            for name in TEMPLATES:
                path = self.override_dir / lang / f"{name}.j2"
                if not path.is_file():
                    continue
                try:
                    rendered = self.render(name, lang, sample_context(name))
                except TemplateError as exc:
                    problems.append(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                except KeyError as exc:  # a block missing
                    problems.append(
                        f"{path}: no {{% block {exc.args[0]} %}} (each template has subject, text, html)"
                    )
                    continue
                if not rendered.subject or len(rendered.subject) > SUBJECT_LIMIT:
                    problems.append(f"{path}: the subject must be 1 to {SUBJECT_LIMIT} characters")
                size = len(rendered.text.encode("utf-8"))
                if size > TEXT_LIMIT_BYTES:
                    problems.append(
                        f"{path}: the text is {size:,} bytes with sample data; "
                        f"a chat robot takes {TEXT_LIMIT_BYTES:,}"
                    )
            unknown = sorted(
                p.name for p in (self.override_dir / lang).glob("*.j2") if p.stem not in TEMPLATES
            ) if (self.override_dir / lang).is_dir() else []  # fmt: skip
            problems += [f"{self.override_dir / lang / name}: not a notice template ({', '.join(TEMPLATES)})"
                         for name in unknown]  # fmt: skip
        if problems:
            raise BadInput("; ".join(problems))


@lru_cache(maxsize=4)
def templates(override_dir: Path | None) -> Templates:
    """The installation's templates, loaded and checked once per process."""
    return Templates(override_dir)


_SAMPLE_AT = datetime(2026, 12, 31, 9, 30, tzinfo=UTC)


def sample_context(name: str) -> dict[str, Any]:
    """Data to render a template with in a preview or an override check: every variable it may use."""
    project = {
        "code": "P007", "name": "永丰村村级组织活动场所", "town": "城关镇", "village": "永丰村",
        "leader": "朱磊", "specialist": "林建国", "budget_fen": 3694000,
    }  # fmt: skip
    common: dict[str, Any] = {
        "person": {"name": "林建国"},
        "office": "区委督查室",
        "now": _SAMPLE_AT,
        "programme": {"name": "村级组织活动场所建设(第一批)"},
        "project": project,
    }
    if name in ("reminder", "due", "overdue", "supervision"):
        return common | {
            "deadline": {"title": "P007 全部开工 by 2026-12-31", "kind": "milestone", "due_at": _SAMPLE_AT},
            "level": {"reminder": "upcoming", "due": "due", "overdue": "overdue"}.get(name, "escalated_1"),
            "working_days": 3,
        }
    if name == "rectification":
        return common | {
            "order": {
                "id": 12, "item": "资金使用符合专款专用", "description": "资金使用符合专款专用:不符合要求",
                "severity": "critical", "due_at": _SAMPLE_AT, "working_days": 5,
            },
            "inspection": {"kind": "事中检查", "when": _SAMPLE_AT},
        }  # fmt: skip
    if name == "acceptance":
        return common | {"inspection": {"when": _SAMPLE_AT, "score": "92.5", "passed": True, "orders": 0}}
    if name == "digest":
        return common | {"items": [{"subject": "【临期提醒】P007 全部开工 by 2026-12-31"}]}
    if name == "checkpoint":
        note = "ducha/programme/1\n314\nmsMRavzx0sn+/NQLjLc7wS7LLQ/oXLwuSbihmstbGm8=\n\n— ducha-office AAAA\n"
        return common | {
            "checkpoint": {"origin": "ducha/programme/1", "size": 314, "signed_at": _SAMPLE_AT, "note": note}
        }
    return common | {
        "channel": "dingtalk:town-east", "problem": "sign not match", "recipient": "林建国",
        "subject": "【逾期通知】P007",
    }  # fmt: skip
