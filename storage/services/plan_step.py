"""The optional spending-plan step of /lapor ("Isi rencana penarikan TW I–IV?").

At the start of a year (no realisasi of the bidang's year yet) an operator whose sub kegiatan
have no office plan is offered to type it before the figures, one message per sub kegiatan.
No Telegram here: ``lapor_flow`` calls these functions inside its transaction and turns the
results into screens.

When the plan is stored (the rule, also in README/docs): what is typed lives in the draft
(``data["rencana"]``), so a restart, /batal or days of silence lose nothing; it is written
to ``rencana_penarikan`` only when the report is sent (Kirim), in the same transaction, as a
revision in force from the draft's quarter through ``early_warning.set_rencana`` (audited
under the operator, never touching an earlier quarter's row). A sub kegiatan whose plan was
changed by someone else (an import) after the step was answered is not overwritten: Kirim
says so, and the typed values stay in the sent draft.

The draft's block::

    {"pola": [15, 40, 60, 90],            # national path in force when offered (percent)
     "lama": {"28": [a, b, c, d] | None},  # plan in force at the quarter then (compare base)
     "pilih": "" | "isi" | "lewati",
     "isi": {"28": [a, b, c, d]},          # amounts given in the step, per sub kegiatan
     "cara": {"28": "ketik" | "nasional" | "tetap"}}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from storage.data.models import Draft, RencanaPenarikan, Source, row_id
from storage.domain.early_warning import national_path
from storage.domain.lapor_steps import StepId, step_id
from storage.domain.periods import roman
from storage.domain.plan_input import PlanInputError, parse_plan
from storage.services.early_warning import EarlyWarningError, in_force, rencana_rows, set_rencana
from storage.services.queries import benchmarks, bidang_sasaran_ids, year_data
from storage.services.submission import DraftPlan, draft_plan, load, save

KIND = "rencana"
ASK = step_id(KIND, "tawar")  # "Isi rencana penarikan TW I–IV?" (Isi rencana / Lewati)

Amounts = list[int | None]


def sub_step(i: int) -> str:
    return step_id(KIND, i)


def block(data: dict) -> dict | None:
    """The draft's plan block; None when the step was not offered in this draft."""
    b = data.get(KIND)
    return b if isinstance(b, dict) else None


def national(pagu: int | None, pola: list[float]) -> Amounts | None:
    """The national cumulative path of ``pagu`` (None without a pagu)."""
    if pagu is None:
        return None
    return list(national_path(pagu, {q: p for q, p in enumerate(pola, start=1)}))


def current(b: dict, node_id: int) -> Amounts | None:
    """What the step holds for a sub kegiatan: given in this draft, else the plan in force."""
    given = b.get("isi", {}).get(str(node_id))
    return given if given is not None else b.get("lama", {}).get(str(node_id))


def planned(b: dict | None) -> int:
    """How many sub kegiatan get a plan from this draft at Kirim (0 when skipped)."""
    if b is None or b.get("pilih") != "isi":
        return 0
    return sum(
        1 for k, v in b.get("isi", {}).items() if v is not None and v != b.get("lama", {}).get(k)
    )


# --- offering the step --------------------------------------------------------------------------


def _in_force_now(session: Session, node_id: int, tw: int) -> Amounts | None:
    row = session.exec(
        select(RencanaPenarikan)
        .where(RencanaPenarikan.node_id == node_id, col(RencanaPenarikan.triwulan) <= tw)
        .order_by(col(RencanaPenarikan.triwulan).desc())
    ).first()
    return list(row.cumulative()) if row is not None else None


def should_offer(session: Session, plan: DraftPlan) -> bool:
    """At the start of the bidang's year (no realisasi of another quarter yet) while some of
    its sub kegiatan have no office plan in force at the quarter."""
    opd_id, tahun, tw = plan.bidang.opd_id, plan.tahun, plan.triwulan
    rows = rencana_rows(session, opd_id, tahun)
    if all(in_force(rows.get(s.node_id, []), tw) is not None for s in plan.subs):
        return False
    data = year_data(session, opd_id, tahun)
    sids = bidang_sasaran_ids(data, row_id(plan.bidang))
    # Any figure of another quarter (imported or sent) means the year is under way: the plan
    # then comes from the template (monev rencana impor), not from this step.
    return not any(
        q != tw and r.anggaran is not None and data.nodes[nid].sasaran_id in sids
        for (nid, q), r in data.real.items()
        if nid in data.nodes
    )


def offer(session: Session, draft: Draft) -> bool:
    """A fresh draft: put the plan step first when it applies (returns whether it does)."""
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    if not plan.subs or not should_offer(session, plan):
        return False
    bench = benchmarks(session)
    rows = rencana_rows(session, plan.bidang.opd_id, plan.tahun)
    lama: dict[str, Amounts | None] = {}
    for s in plan.subs:
        row = in_force(rows.get(s.node_id, []), draft.triwulan)
        lama[str(s.node_id)] = list(row.values) if row is not None else None
    data = load(draft)
    data[KIND] = {
        "pola": [bench.get(q, 0.0) for q in (1, 2, 3, 4)],
        "lama": lama,
        "pilih": "",
        "isi": {},
        "cara": {},
    }
    save(session, draft, data, ASK)
    return True


# --- answering it -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Echo:
    """What an answer of the step did, for the line above the next screen."""

    kind: str  # "lewati", "isi", "ketik", "nasional", "tetap"
    nama: str = ""
    values: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class StepAnswer:
    """``next``: the step to go to (None: the action does not belong to this step);
    ``error``: refused, the draft keeps everything it had; ``buttons_first``: refused too,
    text typed where the step waits for Isi rencana or Lewati (the view words it)."""

    next: str | None = None
    error: str = ""
    echo: Echo | None = None
    buttons_first: bool = False


def _after(plan: DraftPlan, data: dict) -> str:
    """The step after the plan: the figures, or the review when it was changed from there."""
    if data.pop("editing", None) is not None:
        return "review"
    return plan.steps()[0]


def answer(plan: DraftPlan, data: dict, step: str, action: str, text: str = "") -> StepAnswer:
    """Apply a button (``action``) or typed text (action "text") to the plan step ``step``;
    ``data`` (the draft's) is changed in place and saved by the caller."""
    b = block(data)
    if b is None:
        return StepAnswer()
    idx = StepId.parse(step).arg
    if step == ASK:
        if action == "isi":
            b["pilih"] = "isi"
            return StepAnswer(sub_step(0), echo=Echo("isi"))
        if action == "lewati":
            # The values given earlier stay in the draft (Isi rencana brings them back).
            b["pilih"] = "lewati"
            return StepAnswer(_after(plan, data), echo=Echo("lewati"))
        if action == "text":
            return StepAnswer(buttons_first=True)
        return StepAnswer()
    if not idx.isdecimal() or int(idx) >= len(plan.subs):
        return StepAnswer()
    i = int(idx)
    s = plan.subs[i]
    key = str(s.node_id)
    values: Amounts | None
    if action == "text":
        try:
            values = list(parse_plan(text, s.pagu))
        except PlanInputError as exc:
            return StepAnswer(error=str(exc))
        how = "ketik"
    elif action == "nasional" and s.pagu is not None:
        values, how = national(s.pagu, b.get("pola", [])), "nasional"
    elif action == "tetap" and current(b, s.node_id) is not None:
        values, how = current(b, s.node_id), "tetap"
    else:
        return StepAnswer()
    b.setdefault("isi", {})[key] = values
    b.setdefault("cara", {})[key] = how
    following = sub_step(i + 1) if i + 1 < len(plan.subs) else _after(plan, data)
    return StepAnswer(following, echo=Echo(how, s.nama, tuple(values or ())))


def edit(data: dict) -> bool:
    """'Ubah rencana' on the review: back to the question, and to the review after it."""
    if block(data) is None:
        return False
    data["editing"] = ASK
    return True


# --- storing it at Kirim --------------------------------------------------------------------------


@dataclass
class Saved:
    """What Kirim did with the draft's plan."""

    dari_tw: int
    tahun: int
    saved: list[str] = field(default_factory=list)  # sub kegiatan with a new plan row
    kept: int = 0  # given, but equal to the plan already in force
    # (sub kegiatan, why): why is the rule's message, or None when someone changed the plan
    # after the step was answered (the view words that)
    skipped: list[tuple[str, str | None]] = field(default_factory=list)


def store(session: Session, draft: Draft, *, actor: str) -> Saved | None:
    """Write the plan given in the draft as the revision in force from its quarter (called by
    Kirim in the submission's transaction). None when the step was skipped or not offered."""
    data = load(draft)
    b = block(data)
    if b is None or b.get("pilih") != "isi":
        return None
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    out = Saved(draft.triwulan, draft.tahun)
    for s in plan.subs:
        key = str(s.node_id)
        values = b.get("isi", {}).get(key)
        if values is None:
            continue
        now = _in_force_now(session, s.node_id, draft.triwulan)
        if now != b.get("lama", {}).get(key):
            # Compare-and-set: someone (an import) changed it after the step was answered.
            out.skipped.append((s.nama, None))
            continue
        if values == now:
            out.kept += 1
            continue
        try:
            set_rencana(
                session,
                node_id=s.node_id,
                dari_tw=draft.triwulan,
                values=values,
                actor=actor,
                alasan=f"diisi lewat /lapor TW {roman(draft.triwulan)} {draft.tahun}",
                source=Source.ENTRY,
            )
        except EarlyWarningError as exc:  # e.g. the pagu was lowered meanwhile
            out.skipped.append((s.nama, str(exc)))
            continue
        out.saved.append(s.nama)
    return out
