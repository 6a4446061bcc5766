"""What people do with notices: acknowledge or read one in their inbox, send a dead letter again,
and choose the channels they are told on."""

from datetime import datetime

from sqlmodel import Session

from models import Notice, NoticeState, Person
from models.errors import BadInput, NotFound, Refused
from models.notices import INBOX
from models.optimistic import update_if_unchanged
from notifications.channel_config import ChannelsFile
from workflows.authority import ADMIN, ADMIN_OR_OFFICE, record_activity, require_role
from workflows.people import find_person


def _inbox_notice(session: Session, person: Person, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    # A passed notice (a lower level a higher one stood in for) was never in the inbox.
    if (
        notice is None
        or notice.person_id != person.id
        or notice.channel != INBOX
        or notice.state == NoticeState.PASSED
    ):
        raise NotFound(f"no notice {notice_id} in {person.name}'s inbox")
    return notice


def acknowledge(*, session: Session, now: datetime, person: Person, notice_id: int) -> Notice:
    """The person confirms they got it (an escalation must be confirmed); read too, if it was not."""
    notice = _inbox_notice(session, person, notice_id)
    if notice.acknowledged_at is not None:
        return notice
    values = {"acknowledged_at": now, "read_at": notice.read_at or now, "version": notice.version + 1}
    if not update_if_unchanged(
        session=session, row=notice, unchanged={"version": notice.version}, values=values
    ):
        raise Refused(f"notice {notice_id} changed meanwhile: try again")
    return notice


def mark_read(*, session: Session, now: datetime, person: Person, notice_id: int) -> Notice:
    notice = _inbox_notice(session, person, notice_id)
    if notice.read_at is None:
        update_if_unchanged(
            session=session,
            row=notice,
            unchanged={"version": notice.version},
            values={"read_at": now, "version": notice.version + 1},
        )
    return notice


def retry_notice(*, session: Session, now: datetime, actor: Person, notice_id: int) -> Notice:
    """Send a dead letter (or a notice waiting to retry) again now; the attempts so far are kept."""
    require_role(session=session, actor=actor, roles=ADMIN_OR_OFFICE, doing="send a notice again")
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"no notice {notice_id}")
    if notice.state not in (NoticeState.FAILED, NoticeState.RETRY):
        raise Refused(f"notice {notice_id} is {notice.state}: only a failed or retrying notice is sent again")
    values = {
        "state": NoticeState.QUEUED.value,
        "not_before": now,
        "attempts": 0,
        "version": notice.version + 1,
    }
    if not update_if_unchanged(
        session=session, row=notice, unchanged={"version": notice.version}, values=values
    ):
        raise Refused(f"notice {notice_id} changed meanwhile: try again")
    record_activity(session=session, now=now, actor=actor, action="notice retried", subject=notice.key)
    return notice


def change_channels(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    person: str,
    add: list[str],
    remove: list[str],
    channels: ChannelsFile,
) -> Person:
    """Add or remove the named channels a person is told on (besides the inbox and e-mail)."""
    require_role(session=session, actor=actor, roles=ADMIN, doing="change a person's channels")
    found = find_person(session=session, ref=person)
    known = set(channels.names())
    addresses = list(found.notice_addresses)
    for address in add:
        kind, _, rest = address.partition(":")
        name = f"{kind}:{rest.partition('/')[0]}" if kind == "wecom-app" else address
        if kind == "wecom-app" and not rest.partition("/")[2]:
            raise BadInput(f"{address!r}: a WeCom application address names the user: wecom-app:NAME/USERID")
        if name not in known:
            offered = ", ".join(sorted(known)) or "none (set DUCHA_CHANNELS_FILE)"
            raise BadInput(f"{address!r}: no such channel in the channels file (channels: {offered})")
        if kind == "sms" and not found.phone:
            raise BadInput(f"{address!r}: {found.name} has no phone for text messages")
        if address not in addresses:
            addresses.append(address)
    for address in remove:
        if address not in addresses:
            raise NotFound(
                f"{found.name} is not told on {address!r} (told on: {', '.join(addresses) or 'none'})"
            )
        addresses.remove(address)
    if addresses == list(found.notice_addresses):
        raise Refused(f"{found.name}: nothing to change")
    before = list(found.notice_addresses)
    found.notice_addresses = addresses
    session.add(found)
    session.flush()
    record_activity(
        session=session,
        now=now,
        actor=actor,
        action="channels changed",
        subject=f"{found.name} (id {found.id})",
        before=before,
        after=addresses,
    )
    return found
