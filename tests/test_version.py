"""``lpad version`` names the folder each package came from and warns when one is not
starshell's: ``launchpad`` and ``rocket`` are also other PyPI distributions' names."""

import os

import pytest
from user_commands import ROOT, new_user

from launchpad.version import PACKAGES, foreign_owner, origin_warnings


@pytest.mark.parametrize("argv", [["version"], ["-v"]])
def test_version_names_each_package_folder(tmp_path, argv):
    user = new_user(tmp_path)
    done = user.run("lpad", *argv)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("starshell ")
    assert [line.split() for line in lines[1:]] == [[name, os.path.join(ROOT, name)] for name in PACKAGES]


def test_a_foreign_rocket_first_on_the_path_is_named_and_warned_about(tmp_path):
    fake = tmp_path / "elsewhere" / "rocket"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not starshell')\n")
    user = new_user(tmp_path)
    env = {"PYTHONPATH": os.pathsep.join([str(fake.parent), user.env["PYTHONPATH"]])}
    for argv in (["version"], ["-v"]):
        done = user.run("lpad", *argv, extra_env=env)
        assert done.returncode == 0, done.stderr
        assert ["rocket", str(fake)] in [line.split() for line in done.stdout.splitlines()]
        warnings = done.stderr.splitlines()
        assert len(warnings) == 1 and warnings[0].startswith(f"warning: rocket from {fake} "), warnings


def _fake_distribution(site, name, package):
    """An installed distribution ``name`` that owns the top-level ``package`` in ``site``."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text("")
    info = site / f"{name}-9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9\n")
    (info / "RECORD").write_text(f"{package}/__init__.py,,\n{info.name}/METADATA,,\n")
    (info / "top_level.txt").write_text(f"{package}\n")
    return str(site / package)


def test_a_package_owned_by_another_distribution_is_warned_about_even_beside_ours(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"  # as in a non-editable install: all packages side by side
    rocket = _fake_distribution(site, "rocket", "rocket")
    monkeypatch.syspath_prepend(str(site))
    assert foreign_owner("rocket", rocket) == "rocket"
    assert foreign_owner("launchpad", os.path.join(ROOT, "launchpad")) is None
    ours = str(site / "launchpad")
    warnings = origin_warnings({"launchpad": ours, "rocket": rocket})
    assert warnings == [
        f"rocket from {rocket} belongs to the 'rocket' distribution, not starshell; "
        "uninstall it or use a separate virtualenv"
    ]
    assert origin_warnings({name: os.path.join(ROOT, name) for name in PACKAGES}) == []
