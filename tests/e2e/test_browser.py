"""The office's web in a real browser (Debian's chromium, driven by Python playwright): the battle map
with the late villages marked, a project's overdue deadline and notice, and its specialist
acknowledging the notice and responding to the order with a photo. Screenshots go to
$DUCHA_ARTIFACTS/screenshots (default ./artifacts), which CI keeps."""

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="no chromium here (.ci/run installs Debian's: apt-get install chromium)",
)

from sqlalchemy import create_engine, text  # noqa: E402

from ducha.demo.inspections import photo  # noqa: E402
from tests.integration.conftest import free_port, ok  # noqa: E402
from tests.integration.web.conftest import PHONES, Web  # noqa: E402

SHOTS = Path(os.environ.get("DUCHA_ARTIFACTS", "artifacts")) / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "ducha-demo-2026"


@pytest.fixture
def site(web: Web) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in this process."""
    import uvicorn

    from ducha.api import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(web.context), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _specialist_with_an_order(url: str) -> tuple[str, str, int]:
    """A late project with an issued order: (its code, its specialist's phone, the order)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        code, phone, order = connection.execute(
            text(
                "SELECT p.code, x.phone, o.id FROM rectification_order o "
                "JOIN project p ON p.id = o.project_id "
                "JOIN person x ON x.id = o.responsible_person_id WHERE o.status = 'issued' "
                "AND o.responsible_role = 'specialist' AND EXISTS (SELECT 1 FROM notice n "
                "WHERE n.person_id = x.id AND n.channel = 'inbox') ORDER BY o.due_at LIMIT 1"
            )
        ).one()
    engine.dispose()
    return str(code), str(phone), int(order)


# The browser sees the same pages on either database: one run, on SQLite (the web tests cover both).
@pytest.mark.parametrize("late_demo", ["sqlite"], indirect=True)
def test_the_office_and_a_specialist_in_a_browser(web: Web, site: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    code, phone, order = _specialist_with_an_order(web.url)
    ok(web.url, "users", "add", phone, "--role", "specialist", "--as", PHONES["admin"])
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        office = browser.new_page(viewport={"width": 1280, "height": 900})
        office.goto(f"{site}/board")
        office.fill("#login", PHONES["office"])
        office.fill("#password", PASSWORD)
        office.click("button[type=submit]")
        office.wait_for_url(f"{site}/board")
        expect(office.locator("#overdue-count")).to_contain_text("30 个项目有逾期事项")
        expect(office.locator("a.tile.late")).to_have_count(30)
        office.screenshot(path=str(SHOTS / "1-battle-map.png"), full_page=True)
        office.click(f'a.tile[data-code="{code}"]')
        office.wait_for_url(f"{site}/projects/{code}")
        expect(office.locator("tr.level-overdue").first).to_contain_text("逾期")
        expect(office.locator("tr[data-notice]").first).to_be_visible()
        office.screenshot(path=str(SHOTS / "2-project.png"), full_page=True)
        office.goto(f"{site}/funds")  # the money by source; the ledger verified when asked (htmx)
        office.click("#verify button")
        expect(office.locator("[data-verified=ok]")).to_be_visible()
        expect(office.locator("svg rect.b-spent")).to_have_count(2)
        office.screenshot(path=str(SHOTS / "2-funds.png"), full_page=True)

        specialist = browser.new_context().new_page()
        specialist.goto(f"{site}/todo")
        specialist.fill("#login", phone)
        password = (
            ok(web.url, "users", "password", phone, "--as", PHONES["admin"]).split("shown once): ")[1].strip()
        )
        specialist.fill("#password", password)
        specialist.click("button[type=submit]")
        specialist.wait_for_url(f"{site}/todo")
        first = specialist.locator("tr[data-notice]").first
        first.locator("button").click()  # htmx posts the acknowledgement and swaps the cell
        expect(first).to_contain_text("已签收")
        card = specialist.locator(f'[data-order="{order}"]')
        card.locator("input[type=file]").set_input_files(
            files=[{"name": "fixed.png", "mimeType": "image/png", "buffer": photo("fixed in browser", 3)}]
        )
        card.locator("input[name=note]").fill("已按要求整改")
        card.locator("button[type=submit]").click()
        specialist.wait_for_url(f"{site}/todo?done=responded")
        expect(specialist.locator(f'[data-order="{order}"]')).to_contain_text("responded")
        specialist.screenshot(path=str(SHOTS / "3-my-to-do.png"), full_page=True)
        browser.close()
    assert (SHOTS / "1-battle-map.png").stat().st_size > 10_000
