"""`python -m runwatch_dev.local` settings: options over environment, defaults, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwatch_dev.local.__main__ import LocalConfig, UsageError, notifications_wanted, parse_config


def test_defaults_serve_port_3000_with_the_demo_and_in_memory_data() -> None:
    assert parse_config([], {}) == LocalConfig(port=3000, demo=True, data_dir=None)


def test_the_environment_sets_port_demo_and_data_dir(tmp_path: Path) -> None:
    config = parse_config([], {"PORT": "0", "DEMO": "0", "DATA_DIR": str(tmp_path)})
    assert (config.port, config.demo, config.data_dir) == (0, False, tmp_path.resolve())


def test_options_win_over_the_environment(tmp_path: Path) -> None:
    env = {"PORT": "4000", "DEMO": "0"}
    config = parse_config(["--port", "5000", "--demo", "--data-dir", str(tmp_path), "--rules", "r.yaml"], env)
    assert (config.port, config.demo, config.data_dir) == (5000, True, tmp_path.resolve())
    assert env["NOTIFY_RULES"] == "r.yaml"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "http"}, "PORT must be a port number"),
        ({"PORT": "70000"}, "PORT must be from 0 to 65535"),
        ({"DEMO": "maybe"}, "DEMO must be 1 or 0"),
    ],
)
def test_malformed_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_config([], env)


def test_notifications_need_a_notify_setting() -> None:
    assert not notifications_wanted({"PORT": "1", "NOTIFY_SLACK_URL": " "})
    assert notifications_wanted({"NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/hook"})
