"""Port of FireWorks 2.1.x fireworks/user_objects/firetasks/tests/test_templatewriter_task.py.

More of TemplateWriterTask (append, template directories, errors):
tests/test_tasks.py::test_template_*.
"""

from launchpad import TemplateWriterTask


def test_template_writer_fills_the_context(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "test_template.txt").write_text("option1 = {{opt1}}\noption2 = {{opt2}}")
    task = TemplateWriterTask(
        {
            "context": {"opt1": 5.0, "opt2": "fast method"},
            "template_file": "test_template.txt",
            "output_file": "out_template.txt",
            "template_dir": ".",
        }
    )
    task.run_task({})
    assert (tmp_path / "out_template.txt").read_text().splitlines() == [
        "option1 = 5.0",
        "option2 = fast method",
    ]
