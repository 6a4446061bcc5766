"""Overdue notices reach people once, by mail and in the inbox, and say what is late and by how much."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

from notifications.channels.email import message_id
from tests.integration.conftest import DEMO_OFFICE, Sink, js, ok, run

LATE = "2027-01-04T09:00+08:00"


def late_projects(url: str) -> dict[str, dict[str, Any]]:
    """The projects the sweep found late on a milestone: code → specialist's and leader's e-mail."""
    overdue = [
        a for a in js(url, "alerts", "--level", "overdue", "--at", LATE)["data"] if a["kind"] == "milestone"
    ]
    return {a["project_code"]: {r["email"]: r["name"] for r in a["recipients"]} for a in overdue}


def test_each_late_project_tells_its_specialist_and_leader_once_by_mail_and_in_the_inbox(
    demo: str, sink: Sink
) -> None:
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    late = late_projects(demo)
    assert len(late) >= 20
    overdue = [(to, m) for to, m in sink.mails if m["Subject"].startswith("【逾期通知】")]
    for code, people in late.items():
        about = [(to, m) for to, m in overdue if f"{code} " in m["Subject"] and "全部开工" in m["Subject"]]
        assert sorted(address for to, _ in about for address in to) == sorted(people), code
        for _, mail in about:
            text = mail.get_body(preferencelist=("plain",))
            html = mail.get_body(preferencelist=("html",))
            assert text is not None and html is not None
            body = text.get_content()
            assert code in body and "全部开工" in body and "已逾期 1 个工作日" in body
            assert "2026年12月31日 23:59" in body and f"<b>{code}</b>" in html.get_content()
            assert mail["Message-ID"] == message_id(mail["X-Ducha-Key"], "office.example.org")
    # The same notices are in each person's inbox, once: the lower levels that came at the same
    # time (临期, 到期) were recorded as passed and are not shown there.
    code, specialist = next(iter(late.items()))
    phone_of = {p["email"]: p["phone"] for p in js(demo, "people")["data"]}
    for address in specialist:
        inbox = js(demo, "inbox", phone_of[address])["data"]
        about = [n["subject"] for n in inbox if f"{code} 全部开工" in n["subject"]]
        assert len(about) == 1 and about[0].startswith("【逾期通知】"), about
    # Running both again sends nothing new.
    before = len(sink.mails)
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    assert len(sink.mails) == before
    keys = Counter(m["X-Ducha-Key"] for _, m in sink.mails)
    assert max(keys.values()) == 1


def test_a_rectification_notice_carries_the_notice_as_an_attachment(demo: str, sink: Sink) -> None:
    ok(demo, "dispatch", "--at", "2026-12-10")
    notices = [m for _, m in sink.mails if m["Subject"].startswith("【整改通知书】")]
    assert notices, [m["Subject"] for _, m in sink.mails]
    mail = notices[0]
    attachments = list(mail.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"整改通知书-{mail['X-Ducha-Key'].split(':')[1]}.html"]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and "ducha orders respond" in body.get_content()


def test_dispatch_reports_what_it_did(demo: str, sink: Sink) -> None:
    ok(demo, "sweep", "--at", LATE)
    code, output = run(demo, "dispatch", "--json", "--at", LATE)
    report = json.loads(output[output.index("{") :])
    assert code == 0 and report["claimed"] == report["accepted"] == len(sink.mails) > 0
    assert report["by_channel"] == {"email": {"accepted": report["accepted"]}}
    assert js(demo, "notices", "--state", "queued")["count"] == 0


def test_a_template_override_is_checked_when_loaded(demo: str, tmp_path: Path) -> None:
    overrides = tmp_path / "templates" / "zh"
    overrides.mkdir(parents=True)
    (overrides / "overdue.j2").write_text(
        "{% block subject %}逾期：{{ deadline.titel }}{% endblock %}{% block text %}x{% endblock %}"
        "{% block html %}x{% endblock %}",
        encoding="utf-8",
    )
    env = {"DUCHA_TEMPLATE_DIR": str(tmp_path / "templates")}
    before = js(demo, "notices")["count"]
    code, output = run(demo, "sweep", "--at", LATE, env=env)
    assert code == 2 and f"{overrides / 'overdue.j2'}: UndefinedError" in output and "titel" in output
    assert js(demo, "notices")["count"] == before  # the sweep wrote nothing…
    assert js(demo, "alerts", "--at", LATE)["count"] == 0  # …not even its alerts: one transaction
    (overrides / "overdue.j2").write_text(
        "{% block subject %}【逾期】{{ deadline.title }}{% endblock %}{% block text %}{{ person.name }}：逾期"
        "{{ working_days }}日{% endblock %}{% block html %}<p>{{ person.name }}</p>{% endblock %}",
        encoding="utf-8",
    )
    code, output = run(demo, "notices", "preview", "overdue", env=env)
    assert code == 0 and "subject: 【逾期】P007 全部开工 by 2026-12-31" in output and "逾期3日" in output
    ok(demo, "sweep", "--at", LATE, env=env)
    overdue = [n for n in js(demo, "notices")["data"] if n["template"] == "overdue"]
    assert overdue and all(n["subject"].startswith("【逾期】") for n in overdue)


def test_every_template_previews_in_both_languages(demo: str) -> None:
    for template in ("reminder", "due", "overdue", "supervision", "rectification", "acceptance", "digest"):
        for lang, mark in (("zh", "年"), ("en", "20")):
            code, output = run(demo, "notices", "preview", template, "--lang", lang, "--html")
            assert code == 0 and output.startswith("subject: ") and mark in output, (template, lang, output)
    code, output = run(demo, "notices", "preview", "nonsense")
    assert code == 2 and "no notice template 'nonsense'" in output


def test_a_persons_channels_name_channels_of_the_channels_file(demo: str, tmp_path: Path) -> None:
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "dingtalk:\n  town-east: {webhook: 'https://oapi.dingtalk.com/robot/send?access_token=abcdef123456'}\n",
        encoding="utf-8",
    )
    env = {"DUCHA_CHANNELS_FILE": str(channels)}
    said = ok(
        demo, "people", "channels", "13920000001", "--add", "dingtalk:town-east", "--as", DEMO_OFFICE, env=env
    )
    assert "dingtalk:town-east" in said
    code, output = run(
        demo, "people", "channels", "13920000001", "--add", "dingtalk:nope", "--as", DEMO_OFFICE, env=env
    )
    assert code == 2 and "no such channel in the channels file (channels: dingtalk:town-east)" in output
    code, output = run(
        demo, "people", "channels", "13920000001", "--add", "wecom-app:x", "--as", DEMO_OFFICE, env=env
    )
    assert code == 2 and "names the user" in output
    code, output = run(
        demo, "people", "channels", "13920000002", "--remove", "dingtalk:town-east", "--as", DEMO_OFFICE
    )
    assert code == 2 and "is not told on" in output
    assert "abcdef123456" not in said + output


def test_a_person_told_in_english_by_the_daily_digest(demo: str, sink: Sink) -> None:
    said = ok(demo, "people", "edit", "13920000007", "--lang", "en", "--digest", "--as", DEMO_OFFICE)
    assert "notices in en, the daily digest (escalations at once)" in said
    code, output = run(demo, "people", "edit", "13920000007", "--lang", "fr", "--as", DEMO_OFFICE)
    assert code == 2 and "--lang 'fr': give one of zh, en" in output
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    mine = [n for n in js(demo, "notices", "--person", "13920000007")["data"] if "P007" in n["subject"]]
    overdue = {n["channel"]: n for n in mine if n["template"] == "overdue"}
    assert overdue["inbox"]["subject"].startswith("Overdue: P007"), overdue
    assert overdue["email"]["state"] in ("held", "digested"), overdue  # not sent on its own
    # No single mail. The sweep at 09:00 came after the day's 08:30 digest: the notice waits for the
    # next working day's, which lists it, in English.
    to_her = [m for to, m in sink.mails if to == ["zhuangan07@example.org"]]
    assert not [m for m in to_her if m["Subject"].startswith(("Overdue", "【逾期通知】", "Daily digest"))]
    ok(demo, "dispatch", "--at", "2027-01-05T09:00+08:00")
    to_her = [m for to, m in sink.mails if to == ["zhuangan07@example.org"]]
    assert not [m for m in to_her if m["Subject"].startswith(("Overdue", "【逾期通知】"))]
    digests = [m for m in to_her if m["Subject"].startswith("Daily digest, Tue 5 Jan 2027")]
    assert len(digests) == 1, [m["Subject"] for m in to_her]
    body = digests[0].get_body(preferencelist=("plain",))
    assert body is not None and "Overdue: P007" in body.get_content()
