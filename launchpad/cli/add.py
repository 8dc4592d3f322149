"""``lpad add``: workflow files into the store, streamed (launchpad.batch_add), with a
progress bar on a terminal and a one-line summary otherwise."""

import sys
import time

import launchpad.display as display


def add(args, lp):
    from ..batch_add import add_files  # ruamel.yaml: only commands that read files load it

    paths = args.files
    if args.dir:
        from ..workflow_ops import workflow_files

        paths = workflow_files(args.files)
    machine = args.output in display.MACHINE_FORMATS
    bar = ProgressBar(sys.stderr)
    results = add_files(
        lp.add_wf,
        lp.store,
        paths,
        check_only=args.check,
        keep_ids=dict if machine else display.id_map_text,  # a text: a million ids are not held
        progress=bar.update,
    )
    bar.close()
    if machine:
        data = [_entry(r) for r in results]
        display.emit(data, args.output)
    else:
        _show_added(results, args.check)
    if args.dir or len(results) > 1:
        verb = "checked" if args.check else "added"
        display.note(
            f"{verb} {display.plural(len(results), 'workflow')} with "
            f"{display.plural(sum(r.fireworks for r in results), 'firework')} in {bar.elapsed():.1f} s"
        )
    return 0


def _entry(result):
    entry = {"file": result.path, "name": result.name, "fireworks": result.fireworks, "links": result.links}
    if result.ids is not None:
        entry["id_map"] = result.ids
    return entry


def _show_added(results, check_only):
    for r in results:
        what = f"workflow {r.name!r} with {display.plural(r.fireworks, 'firework')}"
        if check_only:
            display.out(f"{r.path}: valid {what} and {display.plural(r.links, 'link')}")
        else:
            display.out(f"{r.path}: added {what}; fw_ids {r.ids}")


class ProgressBar:
    """``added 412/1000 files, 412000 fireworks [#####.....] 41% 12 s`` redrawn on a
    terminal at most ten times a second; nothing when the stream is not a terminal."""

    WIDTH = 30

    def __init__(self, stream, clock=time.monotonic):
        self.stream, self.clock = stream, clock
        self.started = self.drawn = clock()
        self.shown = display.is_terminal(stream)
        self.line = ""

    def update(self, phase, files, total, fireworks):
        now = self.clock()
        if not self.shown or (now - self.drawn < 0.1 and files < total):
            return
        self.drawn = now
        filled = self.WIDTH * files // max(total, 1)
        self.line = (
            f"{phase} {files}/{total} files, {fireworks} fireworks "
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {100 * files // max(total, 1)}% "
            f"{now - self.started:.0f} s"
        )
        self.stream.write("\r" + self.line)
        self.stream.flush()

    def close(self):
        if self.line:
            self.stream.write("\n")
            self.stream.flush()

    def elapsed(self):
        return self.clock() - self.started
