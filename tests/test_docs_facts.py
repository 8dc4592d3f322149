"""Sentences in the docs that state a fact about the code, checked against the code.

Docs drift: the first round said the reset password was the UTC date and
that the ssl keys were ignored, long after the code had changed. Each test
here reads the sentence's source of truth and fails when the prose lies.
"""

import os
import re
from datetime import datetime, timedelta, timezone

from launchpad import LaunchPad
from launchpad import config as config_module

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as fh:
        return fh.read()


def test_password_is_the_local_date_and_the_docs_say_so(tmp_path):
    # Just after local midnight east of UTC the two dates differ: the code must use the local one.
    tz = timezone(timedelta(hours=10))
    moment = datetime(2026, 3, 1, 0, 30, tzinfo=tz)
    lp = LaunchPad.__new__(LaunchPad)
    lp.clock = lambda: moment
    assert lp.today() == moment.astimezone().strftime("%Y-%m-%d")
    for doc in ("docs/cli.md", "CHANGELOG.md", "README.md"):
        text = read(doc)
        assert not re.search(r"date\s+(\*\*)?in\s+UTC", text), f"{doc} says the password date is UTC"


def test_connection_keys_passed_to_pymongo_are_not_called_ignored():
    passed = set(config_module._CLIENT_KEYS)
    ignored = set(config_module._IGNORED_KEYS) - {"_fw_name"}
    for doc in ("docs/stores.md", "CHANGELOG.md"):
        text = read(doc)
        for paragraph in re.split(r"\n\s*\n", text):
            if "ignored" not in paragraph or "my_launchpad" not in paragraph and "`logdir`" not in paragraph:
                continue
            named = set(re.findall(r"`([a-z_]+)`", paragraph.split("ignored")[0].split(". ")[-1]))
            wrongly = named & passed
            assert not wrongly, f"{doc} calls {sorted(wrongly)} ignored, but config.py passes them to pymongo"
        for key in ignored:
            assert f"`{key}`" in text, f"{doc} does not list the ignored key {key}"
