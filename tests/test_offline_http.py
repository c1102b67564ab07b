"""The offline Bot API over HTTP (bot.offline.http): a real PTB stack talks to it over a
socket."""

from __future__ import annotations

import asyncio
import itertools

import httpx

from benchmarks.latency import echo_app_factory, measure
from bot.offline.api import TEST_TOKEN
from bot.offline.http import FakeBotAPI


async def test_echo_bot_answers_through_the_fake_server() -> None:
    async with FakeBotAPI() as fake:
        stats = await asyncio.wait_for(
            measure(echo_app_factory, ["halo", "/start", "123"], n=5, warmup=1, fake=fake),
            timeout=20,
        )
        echoed = [r.text for r in fake.replies]

    assert stats.n == 5
    assert stats.timeouts == 0
    assert 0 < stats.median <= stats.p95 <= stats.max
    # Warm-up plus five messages, echoed in order; the form-encoded "123" stayed a string.
    assert echoed == ["halo", "/start", "123", "halo", "/start", "123"]


async def test_a_paced_measurement_sends_no_sooner_than_its_pace() -> None:
    """``pace``: the next message no sooner than that after the last (a lower bound, which a
    busy machine only lengthens)."""
    async with FakeBotAPI() as fake:
        await asyncio.wait_for(
            measure(echo_app_factory, ["halo"], n=4, warmup=1, fake=fake, pace=0.05), timeout=20
        )
        pushed = sorted(fake._pushed_at.values())
    assert len(pushed) == 5
    assert all(b - a >= 0.049 for a, b in itertools.pairwise(pushed)), pushed


async def test_rate_limit_answers_429_when_flooded() -> None:
    # A frozen clock: all sixty calls fall in one second however slow the machine is.
    async with FakeBotAPI(rate_limit_per_s=30, clock=lambda: 1000.0) as fake:
        url = f"{fake.base_url}{TEST_TOKEN}/sendMessage"
        async with httpx.AsyncClient(timeout=5) as client:
            responses = await asyncio.gather(
                *(client.post(url, data={"chat_id": "7", "text": f"m{i}"}) for i in range(60))
            )
            # Non-send methods are not limited.
            me = await client.post(f"{fake.base_url}{TEST_TOKEN}/getMe")

    statuses = [r.status_code for r in responses]
    limited = [r for r in responses if r.status_code == 429]
    assert statuses.count(200) == 30
    assert len(limited) == fake.rate_limited == 30
    assert all(r.json()["parameters"] == {"retry_after": 1} for r in limited)
    assert me.status_code == 200
    assert me.json()["result"]["username"] == "monev_test_bot"
