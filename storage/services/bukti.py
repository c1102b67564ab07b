"""Evidence (bukti dukung) of a draft's sub kegiatan: attach, list, remove, carry over, find.

No Telegram here: the transport downloads the bytes and stores them with
:mod:`storage.data.bukti_store`, then records them with :func:`attach` in the caller's
write transaction. Every step re-checks that the draft is still the sender's active draft,
so a file arriving after Kirim or /lapor "Mulai ulang" changes nothing it should not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from storage.data import bukti_store
from storage.data.models import (
    AppUser,
    Bidang,
    Bukti,
    Draft,
    Node,
    Pelaporan,
    StatusLaporan,
)
from storage.domain.lapor_steps import StepId
from storage.domain.periods import roman
from storage.domain.policy import Denied, may_see_history
from storage.domain.text import clean_line
from storage.services.submission import (
    DraftPlan,
    active_draft,
    bidang_of,
    draft_plan,
    load,
    save,
    sent_draft,
)
from storage.services.users import active_user

MAX_PER_SUB = 30  # bounded: more is never needed to show a sub kegiatan's work
MAX_CAPTION = 500
ALBUM = 10  # Telegram sends at most ten items per album


@dataclass(frozen=True)
class Item:
    """One evidence file as it is shown (to the operator, the verifier, /bukti, export)."""

    id: int
    node_id: int
    sub: str
    kind: str
    mime: str
    size: int
    file_name: str
    file_id: str
    sha256: str
    caption: str
    oleh: str
    at: datetime
    exif_time: str
    gps: tuple[float, float] | None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _items(session: Session, rows: list[Bukti]) -> list[Item]:
    names: dict[int, str] = {}
    users: dict[int, str] = {}
    out = []
    for r in rows:
        if r.node_id not in names:
            n = session.get(Node, r.node_id)
            names[r.node_id] = n.nama if n else "?"
        if r.uploaded_by not in users:
            u = session.get(AppUser, r.uploaded_by)
            users[r.uploaded_by] = (u.nama or str(u.telegram_id)) if u else "?"
        assert r.id is not None
        gps = (r.gps_lat, r.gps_lon) if r.gps_lat is not None and r.gps_lon is not None else None
        out.append(
            Item(
                id=r.id,
                node_id=r.node_id,
                sub=names[r.node_id],
                kind=r.kind,
                mime=r.mime,
                size=r.size,
                file_name=bukti_store.display_name(names[r.node_id], r.uploaded_at, r.mime, r.kind),
                file_id=r.file_id,
                sha256=r.sha256,
                caption=r.caption,
                oleh=users[r.uploaded_by],
                at=_aware(r.uploaded_at),
                exif_time=r.exif_time,
                gps=gps,
            )
        )
    return out


def rows_of(session: Session, draft_id: int, node_id: int | None = None) -> list[Bukti]:
    q = select(Bukti).where(Bukti.draft_id == draft_id)
    if node_id is not None:
        q = q.where(Bukti.node_id == node_id)
    return list(session.exec(q.order_by(col(Bukti.node_id), col(Bukti.id))).all())


def counts(session: Session, draft_id: int) -> dict[int, int]:
    """Evidence items per sub kegiatan (node id) of a draft."""
    out: dict[int, int] = {}
    for r in rows_of(session, draft_id):
        out[r.node_id] = out.get(r.node_id, 0) + 1
    return out


def items(session: Session, draft_id: int, node_id: int | None = None) -> list[Item]:
    return _items(session, rows_of(session, draft_id, node_id))


# --- where an arriving file goes ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The draft and sub kegiatan an arriving file is attached to."""

    draft_id: int
    node_id: int
    index: int
    sub: str
    tahun: int
    triwulan: int
    count: int  # items already attached to this sub kegiatan


@dataclass(frozen=True)
class NoDraft:
    """The sender has no draft being filled in: the file is not evidence of anything."""


@dataclass(frozen=True)
class PickSub:
    """A draft exists but its current step names no sub kegiatan: 'Tambah bukti' first."""

    draft_id: int


def _sub_index(draft: Draft, data: dict) -> int | None:
    step = StepId.parse(draft.step)
    if step.kind in ("anggaran", "fisik", "ket") and step.index is not None:
        return step.index
    chosen = data.get("bukti_for")
    return chosen if isinstance(chosen, int) else None


def target(
    session: Session, *, user_id: int | None, media_group_id: str = ""
) -> Target | NoDraft | PickSub:
    """Which sub kegiatan a file sent now belongs to: the one whose figures are being asked,
    or the one chosen with 'Tambah bukti' on the review; an album's later items go where
    its first item went."""
    draft = active_draft(session, user_id) if user_id is not None else None
    if draft is None:
        return NoDraft()
    assert draft.id is not None
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    data = load(draft)
    i = _sub_index(draft, data)
    album = data.get("album")
    if media_group_id and isinstance(album, dict) and album.get("id") == media_group_id:
        i = next((k for k, s in enumerate(plan.subs) if s.node_id == album.get("node_id")), i)
    if i is None or not 0 <= i < len(plan.subs):
        return PickSub(draft.id)
    s = plan.subs[i]
    n = len(rows_of(session, draft.id, s.node_id))
    return Target(draft.id, s.node_id, i, s.nama, draft.tahun, draft.triwulan, n)


@dataclass(frozen=True)
class Attached:
    """Recorded; ``count`` items on the sub kegiatan now, ``album`` items of this album so
    far and the confirmation message of the album (0: none yet, send one)."""

    target: Target
    count: int
    album: int
    album_message: int


@dataclass(frozen=True)
class Full:
    """The sub kegiatan already holds the most evidence allowed."""

    sub: str


def attach(
    session: Session,
    *,
    user_id: int | None,
    target: Target,
    stored: bukti_store.Stored,
    kind: str,
    file_id: str,
    file_unique_id: str,
    file_name: str,
    caption: str,
    media_group_id: str,
) -> Attached | Full | NoDraft:
    """Record a stored file on the sub kegiatan :func:`target` named, if the draft is still
    the sender's active one (sent, cancelled or restarted meanwhile: nothing is written)."""
    draft = active_draft(session, user_id, lock=True) if user_id is not None else None
    if draft is None or draft.id != target.draft_id or user_id is None:
        return NoDraft()
    existing = len(rows_of(session, target.draft_id, target.node_id))
    if existing >= MAX_PER_SUB:
        return Full(target.sub)
    meta = received(
        stored,
        kind=kind,
        file_id=file_id,
        file_unique_id=file_unique_id,
        file_name=file_name,
        caption=caption,
        media_group_id=media_group_id,
        uploaded_by=user_id,
    )
    session.add(_row(draft, target.node_id, target.sub, meta))
    album, message = 0, 0
    if media_group_id:
        data = load(draft)
        album, message = _count_album(data, media_group_id, target.node_id)
        save(session, draft, data)
    else:
        session.flush()
    return Attached(target, existing + 1, album, message)


def _count_album(data: dict, media_group_id: str, node_id: int | None) -> tuple[int, int]:
    """One more item of the album: (items so far, its confirmation message or 0)."""
    a = data.get("album") if isinstance(data.get("album"), dict) else None
    if a is None or a.get("id") != media_group_id:
        # Every item of an album goes where its first item went, even if the operator
        # moved on to the next question while the album was arriving.
        a = {"id": media_group_id, "n": 0, "message_id": 0, "node_id": node_id}
    a["n"] += 1
    data["album"] = a
    return a["n"], int(a.get("message_id") or 0)


def received(
    stored: bukti_store.Stored,
    *,
    kind: str,
    file_id: str,
    file_unique_id: str,
    file_name: str,
    caption: str,
    media_group_id: str,
    uploaded_by: int,
) -> dict:
    """What is kept of a received file (a row's fields; JSON while it waits in a draft). The
    uploader's file name is not kept (the bot names the file, ``bukti_store.display_name``);
    the caption is cleaned as every typed field is (``clean_line``: NFC, no bidi or
    zero-width characters)."""
    del file_name  # never trusted, never shown
    ex = stored.exif
    return {
        "sha256": stored.sha256,
        "mime": stored.mime,
        "size": stored.size,
        "kind": kind,
        "file_id": file_id[:255],
        "file_unique_id": file_unique_id[:128],
        "media_group_id": media_group_id[:64],
        "caption": clean_line(caption)[:MAX_CAPTION],
        "uploaded_by": uploaded_by,
        "uploaded_at": datetime.now(UTC).isoformat(),
        "exif_time": ex.time,
        "gps_lat": ex.lat,
        "gps_lon": ex.lon,
    }


def _row(draft: Draft, node_id: int, sub: str, meta: dict) -> Bukti:
    assert draft.id is not None
    fields = {k: v for k, v in meta.items() if k not in ("uploaded_at", "file_name")}
    at = datetime.fromisoformat(meta["uploaded_at"]) if meta.get("uploaded_at") else None
    row = Bukti(
        draft_id=draft.id,
        node_id=node_id,
        tahun=draft.tahun,
        triwulan=draft.triwulan,
        **fields,
    )
    if at is not None:
        row.uploaded_at = at
    # The name the bot gives it (sub kegiatan, date, kind), never the uploader's.
    row.file_name = bukti_store.display_name(sub, row.uploaded_at, row.mime, row.kind)
    return row


MAX_HELD = 10  # files waiting for a sub kegiatan to be chosen


@dataclass(frozen=True)
class Held:
    """Kept, waiting for the operator to say which sub kegiatan it shows (``full``: the
    waiting list was full, this one was not kept)."""

    picker: Picker
    album: int
    album_message: int
    full: bool = False


def hold(session: Session, *, user_id: int | None, draft_id: int, meta: dict) -> Held | NoDraft:
    """A file sent while no sub kegiatan is being asked (indicators, notes, the review):
    kept on the draft until 'Bukti N' names its sub kegiatan, never dropped silently."""
    draft = active_draft(session, user_id, lock=True) if user_id is not None else None
    if draft is None or draft.id != draft_id:
        return NoDraft()
    data = load(draft)
    held = [h for h in data.get("held") or [] if isinstance(h, dict)]
    if len(held) >= MAX_HELD:
        return Held(_picker(session, draft, None), 0, 0, full=True)
    held.append(meta)
    data["held"] = held
    album, message = 0, 0
    if meta.get("media_group_id"):
        album, message = _count_album(data, meta["media_group_id"], None)
    save(session, draft, data)
    return Held(_picker(session, draft, None), album, message)


def remember_album(
    session: Session, *, draft_id: int, media_group_id: str, message_id: int
) -> None:
    """The confirmation message of an album, edited as its other items arrive."""
    draft = session.get(Draft, draft_id)
    if draft is None:
        return
    data = load(draft)
    a = data.get("album")
    if isinstance(a, dict) and a.get("id") == media_group_id:
        a["message_id"] = message_id
        save(session, draft, data)


# --- the evidence screens of the review ("Tambah bukti", "Hapus bukti") -----------------------


@dataclass(frozen=True)
class Picker:
    """Every sub kegiatan of the draft with its evidence count; ``chosen`` one is open."""

    draft_id: int
    plan: DraftPlan
    counts: dict[int, int]
    chosen: int | None = None
    items: list[Item] = field(default_factory=list)
    removed: str = ""  # what was just removed
    removed_sha: str = ""  # its file, to prune once the removal is committed
    held: int = 0  # files received while no sub kegiatan was chosen, waiting for one
    placed: int = 0  # held files just attached to the chosen sub kegiatan
    at_review: bool = True


@dataclass(frozen=True)
class NotHere:
    """The button belongs to a draft that is no longer the sender's active one, or the
    draft has moved on from the review."""

    draft_id: int | None


def _draft(session: Session, telegram_id: int, draft_id: int) -> Draft | None:
    user = active_user(session, telegram_id=telegram_id)
    if user is None or user.id is None:
        return None
    draft = active_draft(session, user.id, lock=True)
    return draft if draft is not None and draft.id == draft_id else None


def _picker(
    session: Session,
    draft: Draft,
    chosen: int | None,
    removed: str = "",
    sha: str = "",
    placed: int = 0,
) -> Picker:
    assert draft.id is not None
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    its = items(session, draft.id, plan.subs[chosen].node_id) if chosen is not None else []
    held = len(load(draft).get("held") or [])
    return Picker(
        draft.id,
        plan,
        counts(session, draft.id),
        chosen,
        its,
        removed,
        sha,
        held,
        placed,
        draft.step == "review",
    )


def open_picker(
    session: Session, *, telegram_id: int, draft_id: int, index: int | None
) -> Picker | NotHere:
    """'Tambah bukti' (``index`` None: choose a sub kegiatan) or 'Bukti N': files held
    until a sub kegiatan was chosen go to sub kegiatan N, and so do files sent from now on
    (outside the questions of a sub kegiatan, which take their own)."""
    draft = _draft(session, telegram_id, draft_id)
    if draft is None:
        return NotHere(None)
    data = load(draft)
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    placed = 0
    if index is not None:
        if not 0 <= index < len(plan.subs):
            return NotHere(draft.id)
        data["bukti_for"] = index
        node_id = plan.subs[index].node_id
        room = MAX_PER_SUB - len(rows_of(session, draft_id, node_id))
        held = [h for h in data.pop("held", None) or [] if isinstance(h, dict)]
        for h in held[: max(room, 0)]:
            session.add(_row(draft, node_id, plan.subs[index].nama, h))
            placed += 1
        if held[placed:]:
            data["held"] = held[placed:]  # no room left: they wait, nothing is dropped
        save(session, draft, data)
    return _picker(session, draft, index, placed=placed)


def remove(session: Session, *, telegram_id: int, draft_id: int, bukti_id: int) -> Picker | NotHere:
    """'Hapus' on one evidence item of the draft (before Kirim only). The file stays on
    disk while any other row (an earlier submission, another draft) names it."""
    draft = _draft(session, telegram_id, draft_id)
    if draft is None:
        return NotHere(None)
    row = session.get(Bukti, bukti_id)
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    chosen = load(draft).get("bukti_for")
    if row is None or row.draft_id != draft_id:
        # Removed already (a double tap): show what is there now.
        return _picker(session, draft, chosen if isinstance(chosen, int) else None)
    index = next((i for i, s in enumerate(plan.subs) if s.node_id == row.node_id), None)
    what = row.caption or bukti_store.display_name(
        next((x.nama for x in plan.subs if x.node_id == row.node_id), ""),
        row.uploaded_at,
        row.mime,
        row.kind,
    )
    sha = row.sha256
    session.delete(row)
    session.flush()
    return _picker(session, draft, index, removed=what, sha=sha)


def unused(session: Session, sha256: str) -> bool:
    """No row names this file any more."""
    return session.exec(select(Bukti.id).where(Bukti.sha256 == sha256)).first() is None


def prune(session: Session, data_dir: Path, sha256: str, *, min_age_s: float = 600) -> bool:
    """Delete the file of ``sha256`` when no row names it. A file written in the last
    ``min_age_s`` seconds stays: its row may be on its way in another transaction."""
    path = bukti_store.path_of(data_dir, sha256)
    if not path.is_file() or not unused(session, sha256):
        return False
    if datetime.now().timestamp() - path.stat().st_mtime < min_age_s:
        return False
    bukti_store.remove(data_dir, sha256)
    return True


# --- a returned report keeps its evidence ---------------------------------------------------------


def carry_over(session: Session, draft: Draft) -> int:
    """A new draft of a quarter submitted before starts with the evidence of that
    submission (rows are copied; the files are shared)."""
    assert draft.id is not None
    if rows_of(session, draft.id):
        return 0
    p = session.exec(
        select(Pelaporan).where(
            Pelaporan.bidang_id == draft.bidang_id,
            Pelaporan.tahun == draft.tahun,
            Pelaporan.triwulan == draft.triwulan,
        )
    ).first()
    sent = sent_draft(session, p) if p is not None else None
    if sent is None or sent.id is None:
        return 0
    n = 0
    for r in rows_of(session, sent.id):
        copy = Bukti.model_validate(
            r.model_dump(exclude={"id", "draft_id"}) | {"draft_id": draft.id}
        )
        session.add(copy)
        n += 1
    session.flush()
    return n


# --- what a submission shows -------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """Evidence of one submitted quarter (of one sub kegiatan, or all of them)."""

    title: str  # "Bidang X — TW IV 2022" or the sub kegiatan's name
    tahun: int
    triwulan: int
    status: str
    version: int
    items: list[Item]


@dataclass(frozen=True)
class Refused:
    """Nothing to show: a permission rule refused (``denied``, the view words it), the
    sender is not an active user (nothing set), ``unknown`` names nothing, or the button's
    report is gone (``stale``)."""

    denied: Denied | None = None
    unknown: str = ""
    stale: bool = False
    choices: tuple[str, ...] = ()  # ``unknown`` fits these several: which one is meant


def for_pelaporan(session: Session, *, telegram_id: int, pelaporan_id: int) -> Shown | Refused:
    """'Lihat bukti' on a verification message: the evidence of the current submission."""
    user = active_user(session, telegram_id=telegram_id)
    p = session.get(Pelaporan, pelaporan_id)
    if user is None or p is None:
        return Refused(stale=user is not None)
    denied = may_see_history(
        role=user.role, status=user.status, user_bidang_id=user.bidang_id, bidang_id=p.bidang_id
    )
    if denied is not None:
        return Refused(denied)
    draft = sent_draft(session, p)
    b = session.get(Bidang, p.bidang_id)
    title = f"Bidang {b.nama if b else '?'} — TW {roman(p.triwulan)} {p.tahun}"
    its = items(session, draft.id) if draft is not None and draft.id is not None else []
    return Shown(title, p.tahun, p.triwulan, p.status, p.version, its)


def _under(session: Session, node: Node) -> set[int]:
    """The node and every node below it (a kegiatan's evidence is its sub kegiatan's)."""
    assert node.id is not None
    found, frontier = {node.id}, [node.id]
    while frontier:
        children = session.exec(select(Node.id).where(col(Node.parent_id).in_(frontier))).all()
        frontier = [c for c in children if c is not None and c not in found]
        found.update(frontier)
    return found


def find(
    session: Session,
    *,
    telegram_id: int,
    opd_id: int,
    text: str,
    triwulan: int | None,
    tahun: int | None,
) -> Shown | Refused:
    """/bukti ‹sub kegiatan› [tw] [tahun]: the evidence of the latest submission of that
    quarter (without a quarter: the latest submitted quarter that has any); same rule as
    /riwayat."""
    from storage.services.nodes import find_node

    user = active_user(session, telegram_id=telegram_id)
    if user is None:
        return Refused()
    match = find_node(session, opd_id=opd_id, text=text, tahun=tahun)
    node = match.sure
    if match.best is not None and node is None:
        return Refused(unknown=text, choices=tuple(n.nama for n in match.nodes))
    if node is None or node.id is None:
        return Refused(unknown=text)
    bidang_id = bidang_of(session, node.id)
    denied = may_see_history(
        role=user.role, status=user.status, user_bidang_id=user.bidang_id, bidang_id=bidang_id
    )
    if denied is not None:
        return Refused(denied)
    q = select(Pelaporan).where(
        Pelaporan.bidang_id == bidang_id,
        Pelaporan.tahun == node.tahun,
        col(Pelaporan.status).in_([StatusLaporan.DIAJUKAN, StatusLaporan.DISETUJUI]),
    )
    if triwulan is not None:
        q = q.where(Pelaporan.triwulan == triwulan)
    reports = session.exec(q.order_by(col(Pelaporan.triwulan).desc())).all()
    nodes = _under(session, node)
    for p in reports:
        draft = sent_draft(session, p)
        if draft is None or draft.id is None:
            continue
        rows = [r for r in rows_of(session, draft.id) if r.node_id in nodes]
        if rows:
            return Shown(node.nama, p.tahun, p.triwulan, p.status, p.version, _items(session, rows))
    return Shown(node.nama, node.tahun if triwulan is not None else 0, triwulan or 0, "", 0, [])


def for_export(
    session: Session, *, opd_id: int, tahun: int, triwulan: int
) -> list[tuple[str, str, Item]]:
    """(bidang, status, item) of every submitted evidence of the office's quarter."""
    out = []
    for b in session.exec(
        select(Bidang).where(Bidang.opd_id == opd_id).order_by(col(Bidang.id))
    ).all():
        p = session.exec(
            select(Pelaporan).where(
                Pelaporan.bidang_id == b.id,
                Pelaporan.tahun == tahun,
                Pelaporan.triwulan == triwulan,
                col(Pelaporan.status).in_([StatusLaporan.DIAJUKAN, StatusLaporan.DISETUJUI]),
            )
        ).first()
        if p is None:
            continue
        draft = sent_draft(session, p)
        if draft is None or draft.id is None:
            continue
        out += [(b.nama, str(p.status), it) for it in items(session, draft.id)]
    return out


def referenced(session: Session) -> set[str]:
    """Every file (SHA-256) some row names."""
    return set(session.exec(select(Bukti.sha256).distinct()).all())
