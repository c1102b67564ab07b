"""Charts stay readable at any size: at most MAX_BARS bars, the rest summed into "Lainnya",
the caption saying so and where the full figures are."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from benchmarks.generate import scale_year
from bot.views.answers import chart_caption
from bot.views.budget import CAPTION, length
from charts.answers import MAX_BARS, ChartKind, ChartRequest, plan_chart
from storage.data.db import read_scope
from storage.services.queries import scope_result
from storage.services.users import find_bidang


def test_a_large_bidang_gets_top_programs_and_lainnya(seeded: Engine) -> None:
    scale_year(seeded, 10)  # every program ten times over
    with read_scope(seeded) as s:
        bidang = find_bidang(s, text="perdagangan", opd_id=1)
        assert bidang is not None and bidang.id is not None
        full = scope_result(s, 1, 2022, 3, bidang_id=bidang.id)
        assert len(full.breakdown) > MAX_BARS
        for kind in (ChartKind.PROGRAM, ChartKind.FISIK):
            plan = plan_chart(s, 1, ChartRequest(kind, 2022, 3, bidang.id))
            bars = plan.args[0]
            assert isinstance(bars, list) and len(bars) == MAX_BARS
            folded = len(full.breakdown) - (MAX_BARS - 1)
            assert bars[-1].label == f"Lainnya ({folded} program)"
            # the drawn bars are the largest by pagu, and nothing is lost in the sum
            if kind == ChartKind.PROGRAM:
                assert sum(b.pagu for b in bars) == full.item.figure.pagu
            assert f"{len(full.breakdown)} program; {folded} program" in plan.caption
            sent = chart_caption(plan)  # as sent: within Telegram's caption limit
            assert sent.endswith("/laporan.") and length(sent) <= CAPTION


def test_a_small_bidang_shows_every_program(seeded: Engine) -> None:
    with read_scope(seeded) as s:
        bidang = find_bidang(s, text="perdagangan", opd_id=1)
        assert bidang is not None
        plan = plan_chart(s, 1, ChartRequest(ChartKind.PROGRAM, 2022, 3, bidang.id))
        full = scope_result(s, 1, 2022, 3, bidang_id=bidang.id)
        assert len(plan.args[0]) == len(full.breakdown)  # type: ignore[arg-type]
        assert "Lainnya" not in plan.caption


def test_the_trend_caption_names_the_configured_national_path(seeded: Engine) -> None:
    # Issue 26: the trend chart's caption said "target 15/40/60/90%" whatever was configured.
    from storage.data.db import session_scope
    from storage.data.models import Setting
    from storage.services.queries import BENCHMARK_SETTING

    with session_scope(seeded) as s:
        s.add(Setting(key=BENCHMARK_SETTING, value="10,35,65,95"))
    with read_scope(seeded) as s:
        plan = plan_chart(s, 1, ChartRequest(ChartKind.TREN, 2022, 3, None))
    assert "(target 10/35/65/95%)" in plan.caption and "15/40/60/90" not in plan.caption
