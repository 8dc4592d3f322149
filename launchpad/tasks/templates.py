"""TemplateWriterTask: render a Jinja2 template into an input file."""

import os

from ..errors import TaskError
from ..firetask import FiretaskBase
from .paths import writable_path

TEMPLATE_DIR_ENV = "STARSHELL_TEMPLATE_DIR"


def _jinja2():
    """Imported on first use: loading the task registry must stay fast."""
    try:
        import jinja2
    except ImportError:
        raise TaskError("TemplateWriterTask needs Jinja2 on this worker: pip install jinja2") from None
    return jinja2


def _render(template_dir, template_path, context):
    jinja2 = _jinja2()
    # The loader lets a template {% include %} its neighbours; a final newline is kept
    # because input files for codes such as VASP or LAMMPS are line-based.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir), keep_trailing_newline=True)
    with open(template_path, encoding="utf-8") as f:
        source = f.read()
    try:
        return env.from_string(source).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TaskError(f"TemplateWriterTask: {template_path}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TaskError(f"TemplateWriterTask: rendering {template_path} failed: {exc}") from None


class TemplateWriterTask(FiretaskBase):
    """Render ``template_file`` with ``context`` into ``output_file`` (``append`` to add to it).

    The template is looked up in ``template_dir``, else ``$STARSHELL_TEMPLATE_DIR``,
    else the launch directory. ``use_global_spec: true`` (or ``_use_global_spec``,
    as FireWorks' docs write it) reads the parameters from the spec, as in FireWorks.
    """

    _fw_name = "TemplateWriterTask"
    required_params = ("template_file", "context", "output_file")
    optional_params = ("append", "template_dir", "use_global_spec", "_use_global_spec")

    def run_task(self, fw_spec):
        params = self.params_source(fw_spec)
        missing = [k for k in self.required_params if k not in params]
        if missing:
            raise TaskError(f"TemplateWriterTask with use_global_spec needs {', '.join(missing)} in the spec")
        template_dir = os.path.expanduser(
            params.get("template_dir") or os.environ.get(TEMPLATE_DIR_ENV) or os.getcwd()
        )
        template_path = os.path.join(template_dir, os.path.expanduser(params["template_file"]))
        if not os.path.isfile(template_path):
            raise TaskError(
                f"TemplateWriterTask: no template file at {template_path}; set "
                f"template_dir in the task or ${TEMPLATE_DIR_ENV} on the worker"
            )
        output_path = writable_path(params["output_file"], fw_spec)
        text = _render(template_dir, template_path, params["context"] or {})
        with open(output_path, "a" if params.get("append") else "w", encoding="utf-8") as f:
            f.write(text)
