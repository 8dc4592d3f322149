"""FireWorks' fireworks/tests/test_fw_config.py: the settings FW_config.yaml gives, and
what an empty or unknown-keyed FW_config.yaml does.

FireWorks' ``config_to_dict()`` and ``override_user_settings()`` rewrite module
globals; starshell reads the file into a frozen value (``load_fw_settings()``)
and offers the constants as ``launchpad.fw_config.NAME``. An unknown key is
named in a warning instead of FireWorks' FWConfigurationError (a deliberate
difference, docs/fireworks.md).
"""

import pytest

import launchpad.fw_config as fw_config
from launchpad.errors import ConfigError
from launchpad.fw_config import load_fw_settings


@pytest.fixture
def fw_config_file(tmp_path, monkeypatch):
    """An empty FW_config.yaml in the current directory, as FireWorks' setUp makes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FW_CONFIG_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / "FW_config.yaml"
    path.write_text("")
    return path


def test_config(tmp_path, monkeypatch):
    """FireWorks' internal counter is not a setting; the documented ones are."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("FW_CONFIG_FILE", raising=False)
    with pytest.raises(AttributeError):
        fw_config.NEGATIVE_FWID_CTR  # noqa: B018 (the attribute access is the test)
    assert fw_config.PING_TIME_SECS == 3600
    assert fw_config.RUN_EXPIRATION_SECS == 4 * 3600
    assert fw_config.RESERVATION_EXPIRATION_SECS == 14 * 24 * 3600


def test_override_user_settings_empty_yaml(fw_config_file):
    with pytest.raises(ConfigError, match="FW_config.yaml is empty"):
        load_fw_settings()


def test_override_user_settings_invalid_key(fw_config_file, capsys):
    fw_config_file.write_text("blah: true\n")
    settings = load_fw_settings()
    assert ("blah", "not a FireWorks setting") in settings.ignored
    assert "blah" in capsys.readouterr().err
