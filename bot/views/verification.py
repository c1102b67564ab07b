"""The verification card and its Setujui/Kembalikan buttons: the one place the ``vf:``
callback data is written (``VfButton.encode``) and read (``VfButton.decode``), and the
words around a decision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from html import escape

from bot.views import texts
from bot.views.answers import Keyboard, Reply
from bot.views.budget import fit, split_html
from bot.views.lapor import review_text
from storage.domain.periods import roman
from storage.services import verification as service
from storage.services.lapor_flow import Sent

# Routing: every callback whose data starts so goes to the verification handler.
PATTERN = r"^vf:"

_DATA = re.compile(r"vf:(ok|back):(\d{1,18})(?::(\d{1,9}))?")


class VfAction(StrEnum):
    APPROVE = "ok"  # Setujui
    RETURN = "back"  # Kembalikan (the reason is asked next)


@dataclass(frozen=True)
class VfButton:
    """What a verification button means: approve or return ``version`` of a submission.
    ``version`` None: a button sent before versions existed, which decides nothing unseen."""

    action: VfAction
    submission_id: int
    version: int | None

    def encode(self) -> str:
        version = "" if self.version is None else f":{self.version}"
        return f"vf:{self.action.value}:{self.submission_id}{version}"

    @classmethod
    def decode(cls, data: str) -> VfButton | None:
        """The button ``data`` names, or None when it is not a verification button."""
        m = _DATA.fullmatch(data)
        if m is None:
            return None
        version = int(m.group(3)) if m.group(3) is not None else None
        return cls(VfAction(m.group(1)), int(m.group(2)), version)


def buttons(submission_id: int, version: int) -> list[tuple[str, str]]:
    """Setujui and Kembalikan for exactly ``version``."""
    return [
        ("✅ Setujui", VfButton(VfAction.APPROVE, submission_id, version).encode()),
        ("↩️ Kembalikan", VfButton(VfAction.RETURN, submission_id, version).encode()),
    ]


def card(c: service.Card, head: str = texts.VERIF_REQUEST) -> list[Reply]:
    """A submission waiting for a decision: the summary (in parts when long), the decision
    buttons on the last part, naming the version shown so they act on nothing else."""
    fields = {
        "bidang": escape(c.bidang),
        "tw": roman(c.triwulan),
        "tahun": c.tahun,
        "oleh": escape(c.oleh),
        "versi": c.version,
    }
    if c.review is None:
        # Submitted before drafts were kept (or imported): the figures are in the answers.
        text = head.format(**fields, summary=texts.VERIF_NO_SUMMARY)
        return [Reply(text, [buttons(c.pelaporan_id, c.version)])]
    text = head.format(**fields, summary=review_text(c.review, for_verifier=True))
    parts = split_html(text)
    kb: Keyboard = [buttons(c.pelaporan_id, c.version)]
    if c.review.bukti:
        kb.append([(texts.BUKTI_SEE, f"bk:{c.pelaporan_id}:{c.version}")])
    return [Reply(t, []) for t in parts[:-1]] + [Reply(parts[-1], kb)]


def sent_card(r: Sent) -> service.Card:
    """What every verifier receives after a submission (``card`` renders it)."""
    return service.Card(
        pelaporan_id=r.pelaporan_id,
        version=r.version,
        bidang=r.bidang,
        tahun=r.tahun,
        triwulan=r.triwulan,
        oleh=r.oleh,
        review=r.review,
    )


def retired_text(original: str, note: str) -> str:
    """An earlier verification message once the report moved on: what happened, by whom."""
    return fit(original, tail=f"\n\n{note}")


def resubmitted_note(version: int, oleh: str) -> str:
    return texts.VERIF_RETIRED.format(
        what=texts.VERIF_RETIRED_RESUBMITTED.format(versi=version), oleh=escape(oleh)
    )


def decided_note(d: service.Decided) -> str:
    """The line an earlier approve/return message gets once someone decided."""
    what = texts.VERIF_RETIRED_APPROVED if d.approved else texts.VERIF_RETIRED_RETURNED
    return texts.VERIF_RETIRED.format(what=what, oleh=escape(d.by))


def approved_here(original: str, d: service.Decided) -> str:
    """The message whose Setujui was pressed, with the decision under it."""
    done = texts.VERIF_DONE.format(original="", outcome="✅ disetujui", oleh=escape(d.by))
    return fit(original, tail=done)


def returned_here(alasan: str) -> str:
    """The reply to the reason once the report went back to the operator."""
    return f"↩️ Laporan dikembalikan ke operator dengan alasan: <i>{escape(alasan[:500])}</i>"


def to_operator(d: service.Decided) -> str:
    """What the submitter is told of the decision."""
    if d.approved:
        return texts.VERIF_APPROVED_OP.format(
            tw=roman(d.triwulan), tahun=d.tahun, bidang=escape(d.bidang)
        )
    return texts.VERIF_RETURNED_OP.format(
        tw=roman(d.triwulan), tahun=d.tahun, bidang=escape(d.bidang), alasan=escape(d.alasan)
    )


def ask_reason(a: service.AskReason) -> str:
    return texts.VERIF_ASK_REASON.format(
        bidang=escape(a.bidang), tw=roman(a.triwulan), tahun=a.tahun
    )


# Words a refusal is given in (HTML-escaped). ``inactive``: for someone no longer active,
# which differs between a decision and a question for the reason (kept as users knew them).
def refusal(r: service.Refusal, *, inactive: str = texts.NOT_ALLOWED) -> str:
    if isinstance(r, service.NotActive):
        return escape(inactive)
    if isinstance(r, service.NotFound):
        return escape(texts.NOT_IN_SCOPE)
    if isinstance(r, service.Forbidden):
        return escape(texts.denied(r.denied, status=r.status))
    return escape(REASON_REQUIRED)


REASON_REQUIRED = "Alasan pengembalian wajib diisi."
REASON_TOO_SHORT = (
    "Alasan terlalu singkat. Tulis apa yang perlu diperbaiki, minimal 5 huruf, atau /batal."
)
REASON_CANCELLED = "Pengembalian laporan dibatalkan; laporan tetap menunggu keputusan."


def reopened(r: service.Reopening) -> str:
    """The answer to /bukakembali."""
    if isinstance(r, service.Reopened):
        return texts.REOPEN_DONE.format(
            tw=roman(r.triwulan), tahun=r.tahun, bidang=escape(r.bidang)
        )
    if isinstance(r, service.UnknownBidang):
        return f"Bidang '{escape(r.text)}' tidak dikenal. " + texts.REOPEN_USAGE
    if isinstance(r, service.Forbidden):
        return escape(texts.denied(r.denied, status=r.status))
    return texts.REOPEN_USAGE
