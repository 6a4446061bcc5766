"""A broken channel tells the admins once a day, by a channel that works: never a note about a note."""

from sqlalchemy import create_engine, text

from tests.integration.conftest import ok


def test_no_mail_server_tells_each_admin_once_in_the_inbox(demo: str, monkeypatch: object) -> None:
    # No DUCHA_SMTP_URL: every e-mail fails for good. Before, each failure wrote a channel-failure
    # mail to each admin, which failed in turn and wrote more: 589,442 notices in ten minutes.
    ok(demo, "sweep", "--at", "2027-01-04T09:00+08:00")
    ok(demo, "dispatch", "--at", "2027-01-04T09:05+08:00")
    ok(demo, "dispatch", "--at", "2027-01-04T09:10+08:00")
    engine = create_engine(demo)
    with engine.connect() as connection:
        notes = connection.execute(
            text("SELECT channel, count(*) FROM notice WHERE template = 'channel_failure' GROUP BY channel")
        ).all()
        admins = connection.execute(
            text(
                "SELECT count(DISTINCT person_id) FROM role_assignment "
                "WHERE role = 'admin' AND revoked_at IS NULL"
            )
        ).scalar_one()
        failed_mail = connection.execute(
            text("SELECT count(*) FROM notice WHERE channel = 'email' AND state = 'failed'")
        ).scalar_one()
    engine.dispose()
    assert failed_mail > 50
    assert dict(notes) == {"inbox": admins}
