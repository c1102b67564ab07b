"""Configuration from the environment (and an optional ``.env``): the contract in
docs/domain.md."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.domain.periods import WIB


def wib(at: datetime) -> datetime:
    """A stored time as the office reads it. The database keeps UTC, and a SQLite column
    gives it back without a zone: such a time is UTC, never the server's local time."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(WIB)


class Settings(BaseSettings):
    """Everything monev-bot reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # "TELEGRAM_API_BASE_URL=" in an env file means "not set", not "an empty URL".
        env_ignore_empty=True,
    )

    telegram_bot_token: str = Field(default="", alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL"
    )
    telegram_api_base_file_url: str = Field(
        default="https://api.telegram.org/file/bot", alias="TELEGRAM_API_BASE_FILE_URL"
    )
    database_url: str = Field(default="", alias="DATABASE_URL")
    data_dir: Path = Field(default=Path("data"), alias="MONEV_DATA_DIR")
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="MONEV_ADMIN_IDS")
    demo_data: bool = Field(default=True, alias="MONEV_DEMO_DATA")
    reminder_time: time = Field(default=time(8, 0), alias="MONEV_REMINDER_TIME")
    # Handled updates are kept this many days in the update inbox, then pruned.
    inbox_keep_days: float = Field(default=7, ge=0, alias="MONEV_INBOX_KEEP_DAYS")
    # Seconds between runs of the reminder and digest jobs; with several processes, also how
    # soon a round cut short by a process that died is resumed by another.
    job_interval_seconds: float = Field(default=60.0, ge=1, alias="MONEV_JOB_INTERVAL_SECONDS")
    # The chart process starts on the first chart and stops after this many seconds without
    # one (0: never stops), so an idle bot does not hold matplotlib in memory.
    chart_idle_seconds: float = Field(default=600.0, ge=0, alias="MONEV_CHART_IDLE_SECONDS")
    # Start the chart process as soon as an answer offering a chart is sent (in the
    # background), so the chart button answers without the process's start-up second.
    chart_warmup: bool = Field(default=True, alias="MONEV_CHART_WARMUP")
    # Evidence (bukti dukung): the largest file kept (Telegram lets bots download 20 MB), and
    # whether Kirim needs evidence for every sub kegiatan whose realisasi rose.
    bukti_max_mb: float = Field(default=20.0, gt=0, le=20, alias="MONEV_BUKTI_MAX_MB")
    bukti_wajib: bool = Field(default=False, alias="MONEV_BUKTI_WAJIB")
    # The Mini App (form for /lapor, dashboard): its public HTTPS address, e.g.
    # https://bot.example.go.id/webapp. Empty: no Mini App buttons and no web server in
    # polling mode. In polling mode it is served on LISTEN:PORT; in webhook mode beside the
    # webhook. initData older than MAX_AGE seconds is refused.
    webapp_url: str = Field(default="", alias="MONEV_WEBAPP_URL")
    webapp_listen: str = Field(default="127.0.0.1", alias="MONEV_WEBAPP_LISTEN")
    webapp_port: int = Field(default=8081, ge=0, le=65535, alias="MONEV_WEBAPP_PORT")
    webapp_max_age: int = Field(default=43_200, gt=0, alias="MONEV_WEBAPP_MAX_AGE")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # "123, 456" in an env file; pydantic-settings would otherwise want JSON.
        if isinstance(value, str):
            return [int(v) for v in value.replace(";", ",").split(",") if v.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("webapp_url", mode="before")
    @classmethod
    def _https_only(cls, value: object) -> object:
        # Telegram opens Mini Apps over HTTPS only; a typo here would only show as a button
        # Telegram refuses, so it is refused at start instead.
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            if value and not value.lower().startswith("https://"):
                raise ValueError(
                    "MONEV_WEBAPP_URL harus alamat HTTPS, mis. https://bot.example.go.id/webapp"
                )
        return value

    @property
    def webapp_path(self) -> str:
        """The local path the Mini App is served under: the path of MONEV_WEBAPP_URL, so a
        reverse proxy passes it through unchanged (``/webapp`` when it names none)."""
        return urlsplit(self.webapp_url).path.rstrip("/") or "/webapp"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'monev.db'}"
