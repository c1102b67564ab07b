"""Deployment files: Compose, systemd, nginx, Dockerfile, .env.example, and log redaction."""

from __future__ import annotations

import configparser
import io
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.logging_setup import REDACTED, RedactTokenFilter, redact, setup_logging

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
TOKEN = "123456789:AAH-fake_token_for_tests_0123456789ab"

ENV_VARS = [
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_API_BASE_FILE_URL",
    "DATABASE_URL",
    "MONEV_ADMIN_IDS",
    "MONEV_DEMO_DATA",
    "MONEV_DATA_DIR",
    "MONEV_REMINDER_TIME",
    "MONEV_JOB_INTERVAL_SECONDS",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "MONEV_WEBAPP_URL",
    "MONEV_WEBAPP_LISTEN",
    "MONEV_WEBAPP_PORT",
    "MONEV_WEBAPP_MAX_AGE",
    "MONEV_LOG_FILE",
    "MONEV_LOG_LEVEL",
]


# --- Docker Compose -----------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _docker_compose_available() -> str | None:
    """None when `docker compose` works here, else why not."""
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    try:
        proc = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker compose version` could not run ({exc})"
    if proc.returncode != 0:
        reason = (proc.stderr or proc.stdout).strip().splitlines()[:1]
        return f"`docker compose version` failed: {reason[0] if reason else proc.returncode}"
    return None


def test_docker_compose_config_validates(tmp_path: Path) -> None:
    reason = _docker_compose_available()
    if reason:
        pytest.skip(f"docker compose config not run: {reason}")
    # A copy with a .env beside it, as on a server; the repository's own .env is not touched.
    (tmp_path / "deploy").mkdir()
    shutil.copy(COMPOSE, tmp_path / "deploy" / COMPOSE.name)
    env = tmp_path / ".env"
    env.write_text(
        (ROOT / ".env.example").read_text(encoding="utf-8")
        + "\nPOSTGRES_PASSWORD=uji123\nTELEGRAM_BOT_TOKEN="
        + TOKEN
        + "\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            "docker",
            "compose",
            "--env-file",
            str(env),
            "-f",
            str(tmp_path / "deploy" / COMPOSE.name),
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rendered = yaml.safe_load(proc.stdout)
    assert set(rendered["services"]) == {"db", "migrate", "bot"}
    url = rendered["services"]["bot"]["environment"]["DATABASE_URL"]
    assert url == "postgresql://monev:uji123@db:5432/monev"


def test_compose_services_and_order() -> None:
    c = _compose()
    services = c["services"]
    assert set(services) == {"db", "migrate", "bot"}

    db = services["db"]
    assert str(db["image"]).startswith("postgres:16")
    assert db["restart"] == "unless-stopped"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "ports" not in db  # the database stays inside the Compose network
    [db_volume] = db["volumes"]
    assert db_volume.split(":")[0] in c["volumes"]  # a named volume, not a host folder
    assert db_volume.endswith(":/var/lib/postgresql/data")

    migrate = services["migrate"]
    assert migrate["command"] == ["monev", "db", "upgrade"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate.get("restart", "no") == "no"

    bot = services["bot"]
    assert bot["command"] == ["monev", "run"]
    assert bot["restart"] == "unless-stopped"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "../.env" in bot["env_file"]
    assert "@db:5432/" in bot["environment"]["DATABASE_URL"]
    assert bot["healthcheck"]["test"][:2] == ["CMD", "monev"]
    assert any(v.endswith(":/app/data") and v.split(":")[0] in c["volumes"] for v in bot["volumes"])
    # The webhook port is published on the host's loopback only, for nginx.
    assert all(str(p).startswith("127.0.0.1:") for p in bot.get("ports", []))

    for name in ("migrate", "bot"):
        build = services[name]["build"]
        assert build["context"] == ".." and build["dockerfile"] == "deploy/Dockerfile"
        assert services[name]["environment"]["DATABASE_URL"] == bot["environment"]["DATABASE_URL"]


def test_compose_password_comes_from_the_environment() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert "${POSTGRES_PASSWORD:?" in text
    db_env = _compose()["services"]["db"]["environment"]
    assert db_env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert lines[0].startswith("FROM python:3.11-slim")
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    # The image installs the versions CI tested: the lock file is copied and constrains pip.
    assert "COPY pyproject.toml README.md requirements.lock ./" in text
    assert re.search(r"pip install -c requirements\.lock \.", text)
    assert 'VOLUME ["/app/data"]' in text
    assert re.search(r"HEALTHCHECK .*\\\n\s+CMD \[\"monev\", \"check\", \"--quick\"\]", text)
    assert lines[-1] == 'CMD ["monev", "run"]'
    assert "postgresql-client" in text  # pg_dump for monev backup
    # Every package folder the wheel needs is copied in.
    for pkg in ("bot", "storage", "charts"):
        assert f"COPY {pkg} ./{pkg}" in text


# --- systemd ------------------------------------------------------------------------------


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DEPLOY / "monev-bot.service", encoding="utf-8")
    return parser


def test_systemd_unit_has_the_keys() -> None:
    unit = _unit()
    service = unit["Service"]
    venv = "/opt/monev-bot/.venv/bin/monev"
    assert service["ExecStartPre"] == f"{venv} db upgrade"
    assert service["ExecStart"] == f"{venv} run"
    assert service["WorkingDirectory"] == "/opt/monev-bot"
    assert service["EnvironmentFile"] == "/opt/monev-bot/.env"
    assert service["Restart"] == "on-failure"
    assert service["User"] not in {"", "root"}
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/opt/monev-bot/data"
    assert service["PrivateTmp"] == "true"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"]


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # The venv does not exist here; point the commands at /bin/true to verify the rest.
    text = (DEPLOY / "monev-bot.service").read_text(encoding="utf-8")
    copy = tmp_path / "monev-bot.service"
    copy.write_text(text.replace("/opt/monev-bot/.venv/bin/monev", "/bin/true"), encoding="utf-8")
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in proc.stderr.splitlines()
        if "monev-bot.service" in line and "Failed to" not in line
    ]
    if proc.returncode != 0 and not problems:
        pytest.skip(f"systemd-analyze cannot verify here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0 and not problems, proc.stderr


# --- nginx --------------------------------------------------------------------------------


def test_nginx_snippet() -> None:
    text = (DEPLOY / "nginx-webhook.conf").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert code.count("{") == code.count("}")
    assert "server_name bot.example.go.id;" in code
    blocks = {b.split("{", 1)[0].strip(): b for b in code.split("location ")[1:]}
    for path in ("= /telegram", "= /healthz"):
        assert "proxy_pass http://127.0.0.1:8443;" in blocks[path]
    assert "limit_except POST" in blocks["= /telegram"]
    assert "client_max_body_size 1m;" in code
    assert (
        "proxy_set_header X-Telegram-Bot-Api-Secret-Token $http_x_telegram_bot_api_secret_token;"
        in code
    )
    assert "listen 443 ssl;" in code
    # The Mini App behind the same HTTPS name, passed through to the bot's process.
    assert "proxy_pass http://127.0.0.1:8443;" in blocks["/webapp/"]
    assert "limit_except GET POST" in blocks["/webapp/"]


# --- .env.example -------------------------------------------------------------------------


def test_env_example_documents_every_variable() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    lines = text.splitlines()
    for var in ENV_VARS:
        at = [i for i, line in enumerate(lines) if re.match(rf"^#?\s*{var}=", line)]
        assert at, f"{var} missing from .env.example"
        # A comment right above, or above a group of related variables (LISTEN and PORT).
        above = lines[max(0, at[0] - 2) : at[0]]
        assert any(line.startswith("# ") for line in above), f"{var} has no comment above it"
    assert re.search(r"^WEBHOOK_LISTEN=127\.0\.0\.1$", text, re.M)
    assert re.search(r"^WEBHOOK_PORT=8443$", text, re.M)
    # No inline comments: systemd's EnvironmentFile would take them as part of the value.
    for line in lines:
        if line and not line.startswith("#"):
            assert "#" not in line, line


def test_env_example_loads_into_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.logging_setup import LogSettings
    from bot.settings import Settings
    from bot.webhook import WebhookSettings

    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.telegram_api_base_url == "https://api.telegram.org/bot"
    assert s.admin_ids == [] and s.database_url == ""
    w = WebhookSettings()
    assert (w.webhook_url, w.webhook_listen, w.webhook_port) == ("", "127.0.0.1", 8443)
    log = LogSettings()
    assert log.log_file is None and log.log_level == "INFO"


# --- logging ------------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Any:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {n: logging.getLogger(n).level for n in ("httpx", "httpcore")}
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    for n, lvl in quiet.items():
        logging.getLogger(n).setLevel(lvl)


def test_redact() -> None:
    assert redact(f"GET https://api.telegram.org/bot{TOKEN}/getMe") == (
        f"GET https://api.telegram.org/bot{REDACTED}/getMe"
    )
    assert redact("angka 12345:pendek tetap") == "angka 12345:pendek tetap"


def test_token_filter_redacts_message_args_and_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokenFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token %s di args", TOKEN)
        logger.warning(f"token {TOKEN} di pesan")
        logger.warning("dict %(url)s", {"url": f"https://api.telegram.org/bot{TOKEN}/x"})
        try:
            raise RuntimeError(f"gagal memanggil https://api.telegram.org/bot{TOKEN}/getMe")
        except RuntimeError:
            logger.exception("galat")
        logger.warning("format salah %d", "bukan angka " + TOKEN)
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    assert out.count(REDACTED) >= 5
    assert "RuntimeError" in out  # the traceback is kept, only the token is gone


def test_setup_logging_one_line_per_event_to_a_rotating_file(
    tmp_path: Path, restore_logging: Any
) -> None:
    from logging.handlers import RotatingFileHandler

    log_file = tmp_path / "log" / "monev.log"
    setup_logging("INFO", log_file)
    setup_logging("INFO", log_file)  # again: replaces, does not double
    root = logging.getLogger()
    files = [h for h in root.handlers if isinstance(h, RotatingFileHandler)]
    assert len(files) == 1
    assert files[0].maxBytes == 5 * 1024 * 1024 and files[0].backupCount == 5
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING

    log = logging.getLogger("monev.test")
    log.info("mulai dengan token %s", TOKEN, extra={"update_id": 7})
    try:
        {}["tidak ada"]
    except KeyError:
        log.exception("baris\nkedua")
    logging.getLogger("httpx").info(f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/x")
    log.debug("tidak tercatat pada INFO")
    for h in root.handlers:
        h.flush()
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert (
        lines[0].startswith("ts=") and "level=INFO" in lines[0] and "logger=monev.test" in lines[0]
    )
    assert "update_id=7" in lines[0]
    assert "+07:00" in lines[0].split()[0]  # WIB
    assert "level=ERROR" in lines[1] and "KeyError" in lines[1]
    assert TOKEN not in "\n".join(lines)


def test_unknown_log_level_is_refused(restore_logging: Any) -> None:
    with pytest.raises(ValueError, match="Tingkat log"):
        setup_logging("BANYAK")


# --- several processes (docker-compose.cluster.yml) ---------------------------------------


def test_cluster_compose_scales_the_bot_behind_a_proxy() -> None:
    c = yaml.safe_load((DEPLOY / "docker-compose.cluster.yml").read_text(encoding="utf-8"))
    services = c["services"]
    assert set(services) == {"db", "migrate", "bot", "proxy"}
    bot = services["bot"]
    assert bot["command"] == ["monev", "run"]
    assert bot["deploy"]["replicas"] == 2
    assert "ports" not in bot  # only the proxy reaches the processes
    assert "@db:5432/" in bot["environment"]["DATABASE_URL"]  # PostgreSQL: several processes
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    proxy = services["proxy"]
    assert str(proxy["image"]).startswith("nginx")
    assert proxy["ports"] == ["127.0.0.1:8443:8443"]
    [conf] = [v for v in proxy["volumes"] if "nginx-cluster.conf" in v]
    assert (DEPLOY / conf.split(":")[0].removeprefix("./")).exists()


def test_cluster_proxy_spreads_updates_and_retries_another_process() -> None:
    text = (DEPLOY / "nginx-cluster.conf").read_text(encoding="utf-8")
    assert "resolver 127.0.0.11" in text  # re-resolves `bot` to every process
    assert re.search(r"proxy_pass \$bot;", text)
    # an update refused by a process that is down goes to another (safe: the inbox dedups)
    assert re.search(r"proxy_next_upstream [^;]*error[^;]*non_idempotent", text)
    assert "X-Telegram-Bot-Api-Secret-Token" in text
