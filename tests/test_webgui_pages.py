"""The web GUI's HTML pages through Flask's test client, and its pure helpers.

Pages: what each shows, the login form's guards, the error pages, the
security headers, and that nothing is loaded from another site. Helpers:
the server-side DAG layout, the state colours, file tails and the password
file tool.
"""

import hashlib
import json
import os
import re
import stat
import time
import zlib

import pytest
from werkzeug.security import generate_password_hash

from launchpad import Firework, Workflow
from launchpad.errors import ConfigError
from launchpad.states import ALL_STATES
from launchpad.tasks import ScriptTask
from webgui import app as app_module
from webgui import create_app
from webgui.auth import read_password_file, safe_next
from webgui.colors import STATE_COLORS, stylesheet
from webgui.demo import build_demo
from webgui.layout import assign_layers, layout
from webgui.passwd import main as passwd_main
from webgui.tails import FileRefusedError, output_files, safe_path, tail

PASSWORD = "pages-secret"
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
WEBGUI_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "webgui")


@pytest.fixture
def demo(sqlite_lp, tmp_path):
    return sqlite_lp, build_demo(sqlite_lp, tmp_path / "launches")


def make_client(lp, **config):
    config.setdefault("STARSHELL_PASSWORD_HASH", FAST_HASH)
    return create_app({"TESTING": True, **config}, lp).test_client()


@pytest.fixture
def client(demo):
    return make_client(demo[0])


def token_of(client):
    client.get("/login")
    with client.session_transaction() as session:
        return session["csrf_token"]


def log_in(client):
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": token_of(client)})
    assert response.status_code == 302


def text(response):
    return response.get_data(as_text=True)


# -- pages -----------------------------------------------------------------------
def test_dashboard_shows_counts_by_state_and_latest_failure(client):
    page = text(client.get("/"))
    assert re.search(r'data-kind="fireworks" data-state="FIZZLED">.*?<span class="n">1</span>', page, re.S)
    assert re.search(r'data-kind="workflows" data-state="READY">.*?<span class="n">3</span>', page, re.S)
    assert "relax Ge" in page and "Latest failures" in page
    assert 'name="csrf-token"' in page and "app.js" in page


def test_workflow_list_page_filters_and_paginates(client):
    page = text(client.get("/workflows?per_page=2&sort=name"))
    assert "4 workflows" in page and "Page 1 of 2" in page
    assert "per_page=2" in page and "sort=name" in page  # the next link keeps the filters
    one = text(client.get("/workflows?state=FIZZLED"))
    assert "semiconductor band gaps" in one and "convergence test" not in one


def test_bad_query_is_shown_above_the_form_and_refused(client):
    response = client.get('/workflows?query={"$where": "sleep(100)"}')
    assert response.status_code == 400
    page = text(response)
    assert "$where" in page and "not allowed" in page
    assert 'value="{&#34;$where&#34;: &#34;sleep(100)&#34;}"' in page  # kept for editing
    assert "semiconductor band gaps" not in page


def test_workflow_page_links_graph_and_fireworks(client, demo):
    page = text(client.get("/workflows/1"))
    assert 'data-graph-url="/api/workflows/1/graph"' in page
    assert page.count("<tr data-fw-id=") == 8
    assert f'href="/fireworks/{demo[1][3]}"' in page
    assert 'data-action="rerun"' not in page and "to rerun, defuse" in page


def test_workflow_page_shows_actions_after_login(client):
    log_in(client)
    page = text(client.get("/workflows/1"))
    for action in ("rerun", "defuse", "reignite", "pause", "resume", "priority"):
        assert f'data-action="{action}"' in page
    assert 'id="select-all"' in page and page.count('class="pick"') == 8


def test_large_workflow_page_summarises_instead_of_drawing(demo):
    page = text(make_client(demo[0], STARSHELL_DAG_LIMIT=5).get("/workflows/1?state=WAITING"))
    assert 'id="dag"' not in page and "more than the 5 drawn at once" in page
    assert page.count("<tr data-fw-id=") == 3


def test_firework_page_shows_launch_traceback_data_and_tails(client, demo):
    page = text(client.get(f"/fireworks/{demo[1][3]}"))
    for fragment in (
        "node042",
        "launch_relax_ge",
        "SCF did not converge in 60 steps",
        "RuntimeError",
        "FW_job.out",
        "SCF step  60",
        "ScriptTask",
    ):
        assert fragment in page, fragment
    done = text(client.get(f"/fireworks/{demo[1][2]}"))
    assert "energy_eV" in done and "-10.84" in done


def test_unknown_pages_render_an_error_page(client):
    response = client.get("/fireworks/4242")
    assert response.status_code == 404 and "no firework with id 4242" in text(response)
    assert client.get("/no/such/page").status_code == 404


def test_login_needs_csrf_and_the_right_password(client):
    assert client.post("/login", data={"password": PASSWORD}).status_code == 403
    token = token_of(client)
    wrong = client.post("/login", data={"password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong password" in text(wrong)
    right = client.post("/login", data={"password": PASSWORD, "csrf_token": token, "next": "/workflows"})
    assert right.headers["Location"].endswith("/workflows")


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/workflows/1", "/workflows/1"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ],
)
def test_login_redirects_only_inside_the_site(target, expected):
    assert safe_next(target) == expected


def test_logout_needs_csrf(client):
    log_in(client)
    assert client.post("/logout").status_code == 403
    assert 'data-action="rerun"' in text(client.get("/workflows/1"))


@pytest.mark.parametrize(
    "config, shown",
    [
        ({"STARSHELL_READ_ONLY": True}, "--read-only"),
        ({"STARSHELL_PASSWORD_HASH": None}, "python -m webgui.passwd"),
    ],
)
def test_read_only_modes_explain_themselves(demo, config, shown):
    client = make_client(demo[0], **config)
    assert shown in text(client.get("/login"))
    assert "Read-only" in text(client.get("/"))
    assert "data-action=" not in text(client.get("/workflows/1"))


def test_security_headers_and_cookie_flags(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_nothing_is_loaded_from_another_site(client, demo):
    pages = [text(client.get(url)) for url in ("/", "/workflows", "/workflows/1", f"/fireworks/{demo[1][3]}")]
    for name in ("app.js", "style.css"):
        with open(os.path.join(WEBGUI_DIR, "static", name), encoding="utf-8") as handle:
            pages.append(handle.read())
    for page in pages:
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        assert not re.search(r"""(fetch|import|url)\(\s*["'`]?(https?:)?//""", page)


def test_state_stylesheet_covers_every_state(client):
    css = text(client.get("/states.css"))
    assert set(STATE_COLORS) == set(ALL_STATES)
    for state in ALL_STATES:
        assert f".state-{state} {{" in css
    assert css == stylesheet()


def test_templates_never_pass_locals():
    for root, _dirs, files in os.walk(WEBGUI_DIR):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(root, name), encoding="utf-8") as handle:
                    source = handle.read()
                assert "locals()" not in source, name
                assert len(source.splitlines()) < 600, name


def test_views_talk_to_the_launchpad_api_only():
    """No view reaches the store: the schema stays private to the backends."""
    import ast

    for name in os.listdir(WEBGUI_DIR):
        if not name.endswith(".py") or name == "demo.py":  # the demo creates a store to fill
            continue
        with open(os.path.join(WEBGUI_DIR, name), encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr != "store", f"{name} uses .store"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                )
                for module in modules:
                    assert not module.startswith(
                        ("launchpad.stores", "pymongo", "sqlite3", "rocket", "queue_adapters")
                    ), f"{name} imports {module}"


def test_static_files_are_versioned_and_kept_by_the_browser(client):
    """Each page load asked again for 5 scripts and stylesheets (a round trip each before
    the page could run); a hash of the content in the URL lets the browser keep them."""
    html = client.get("/workflows/1").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/static/[^"?]+)\?v=([0-9a-f]{12})"', html)
    assert {path for path, _ in urls} >= {"/static/app.js", "/static/graph.js", "/static/style.css"}
    for path, version in urls:
        served = client.get(f"{path}?v={version}")
        assert served.status_code == 200 and served.cache_control.max_age == 365 * 24 * 3600
        assert version == hashlib.sha256(served.get_data()).hexdigest()[:12]


def test_pages_preload_the_data_their_scripts_ask_for(demo):
    """The graph's or plots' data is asked for from the response's headers, before the page
    is parsed (tests/test_webgui_browser_history.py: the scripts use that answer)."""
    client = make_client(demo[0])
    link = "; rel=preload; as=fetch; crossorigin"
    assert client.get("/workflows/1").headers["Link"] == f"</api/workflows/1/graph>{link}"
    assert "Link" not in client.get("/activity").headers  # it carries its data (the next test)
    assert client.get("/workflows/1/timeline").headers["Link"] == f"</api/workflows/1/timeline>{link}"
    too_large = make_client(demo[0], STARSHELL_DAG_LIMIT=2).get("/workflows/1")
    assert "Link" not in too_large.headers  # no graph is drawn, none is asked for


@pytest.mark.parametrize("encoding", ["gzip", "identity", "gzip;q=0"])
def test_over_time_page_is_sent_before_its_data_are_read(demo, monkeypatch, encoding):
    """The page's HTML goes out before the store is read, so the browser lays it out while
    the plots' data are read; they follow in the same response, as the API gives them."""
    from webgui import activity as over_time

    reads = []
    for name in ("finished_per_interval", "runtimes_by_task"):
        real = getattr(over_time, name)
        monkeypatch.setattr(over_time, name, lambda lp, args, real=real: reads.append(args) or real(lp, args))
    client = make_client(demo[0])
    response = client.get("/activity", headers={"Accept-Encoding": encoding}, buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers.get("Content-Encoding") == (encoding if encoding == "gzip" else None)
    decode = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress if encoding == "gzip" else bytes
    parts = iter(response.response)
    first = decode(next(parts)).decode()
    assert 'id="chart-runtimes"' in first and first.endswith('id="plot-data">')
    assert reads == []  # sent before the store was read
    page = first + b"".join(decode(part) for part in parts).decode()
    response.close()
    assert reads == [{"interval": "hours"}, {}]
    carried = json.loads(re.search(r'id="plot-data">(.*?)</script>', page, re.S).group(1))
    assert carried == {
        "finished": client.get("/api/activity/finished?interval=hours").get_json(),
        "runtimes": client.get("/api/activity/runtimes").get_json(),
    }


def test_over_time_page_reports_a_failed_read_in_its_data(demo, monkeypatch):
    """The status line is sent before the read: its failure reaches the page's scripts as
    {"error": ...}, the page then asks the API (tests/test_webgui_browser_history.py)."""
    from launchpad.errors import QueryTimeoutError
    from webgui import activity as over_time

    def timed_out(lp, args):
        raise QueryTimeoutError("the query ran for more than 5 s")

    monkeypatch.setattr(over_time, "runtimes_by_task", timed_out)
    page = make_client(demo[0]).get("/activity").get_data(as_text=True)
    assert '"error": "the query ran for more than 5 s"' in page


# -- layout ----------------------------------------------------------------------
def test_layers_follow_the_longest_path():
    links = {1: [2, 4], 2: [3], 3: [4], 4: []}
    assert assign_layers(links) == {1: 0, 2: 1, 3: 2, 4: 3}


def test_layout_places_nodes_without_overlap():
    links = {1: [2, 3, 4], 2: [5], 3: [5], 4: [5], 5: [], 6: []}
    placed = layout(links)
    spots = {(p["x"], p["y"]) for p in placed["nodes"].values()}
    assert len(spots) == len(links)
    for _node, p in placed["nodes"].items():
        assert 0 <= p["x"] and p["x"] + placed["node_width"] <= placed["width"]
        assert 0 <= p["y"] and p["y"] + placed["node_height"] <= placed["height"]
    assert layout({})["nodes"] == {}


def test_layout_sweeps_reduce_crossings():
    # Kahn's order puts 4 above 5, which crosses 1->5 over 2->4 and 3->4;
    # the barycenter sweep puts 5 first and leaves a single crossing.
    links = {1: [5], 2: [4], 3: [4, 5], 4: [], 5: []}
    nodes = layout(links)["nodes"]
    assert nodes[5]["y"] < nodes[4]["y"]


def test_a_dense_layer_stays_one_layer_as_a_group_until_expanded():
    links = {0: list(range(1, 101)), **{i: [200] for i in range(1, 101)}, 200: []}
    placed = layout(links)
    assert set(placed["nodes"]) == {0, 200}  # the 100 middle fireworks are one group
    (group,) = placed["groups"]
    assert group["layer"] == 1 and sorted(group["members"]) == list(range(1, 101))
    assert [e[:2] for e in placed["edges"]] == [[0, "g1"], ["g1", 200]]
    assert [e[2] for e in placed["edges"]] == [100, 100]  # each edge says how many links it stands for
    assert [layer["size"] for layer in placed["layers"]] == [1, 100, 1]

    opened = layout(links, expanded=[1])
    xs = {p["x"] for n, p in opened["nodes"].items() if 1 <= n <= 100}
    assert len(opened["nodes"]) == 102 and opened["groups"] == []
    assert len(xs) == 1  # expanded, the layer is one column, not wrapped into several


def test_a_pinned_firework_leaves_its_group():
    links = {0: list(range(1, 101)), **{i: [] for i in range(1, 101)}}
    placed = layout(links, pinned=[57])
    assert set(placed["nodes"]) == {0, 57}
    assert placed["groups"][0]["members"] == [i for i in range(1, 101) if i != 57]
    assert placed["nodes"][57]["x"] == placed["groups"][0]["x"]  # still drawn in its own layer


def test_a_deep_chain_is_drawn_as_spans_of_layers():
    links = {i: [i + 1] for i in range(9999)}
    links[9999] = []
    placed = layout(links)
    assert placed["nodes"] == {} and len(placed["groups"]) == 200  # 10,000 layers, 50 a span
    assert [(g["layer"], g["last_layer"]) for g in placed["groups"][:2]] == [(0, 49), (50, 99)]
    assert sorted(m for g in placed["groups"] for m in g["members"]) == list(range(10000))
    assert len(placed["edges"]) == 199 and all(e[2] == 1 for e in placed["edges"])
    assert placed["width"] < 200 * 300  # one column a span, not one a layer
    opened = layout(links, expanded=range(50, 100))
    assert sorted(opened["nodes"]) == list(range(50, 100)) and len(opened["groups"]) == 199
    assert {opened["layers"][i]["x"] for i in range(50, 100)} != {opened["layers"][0]["x"]}
    # a pinned firework keeps its own layer: the spans around it stop there
    pinned = layout(links, pinned=[75])
    assert 75 in pinned["nodes"] and all(75 not in g["members"] for g in pinned["groups"])


def test_layout_of_ten_thousand_fireworks_is_bounded():
    links = {i: [] for i in range(10000)}
    for i in range(1, 10000):  # a wide, deep tree: each node has a parent i // 3
        links[i // 3].append(i)
    start = time.perf_counter()
    placed = layout(links)
    assert time.perf_counter() - start < 2.0
    shown = set(placed["nodes"]) | {m for g in placed["groups"] for m in g["members"]}
    assert shown == set(links)  # every firework is drawn, singly or in its layer's group
    assert len(placed["nodes"]) + len(placed["groups"]) <= 450
    assert len({g["layer"] for g in placed["groups"]}) == len(placed["groups"])  # one group per layer


def test_graph_of_a_thousand_firework_workflow(sqlite_lp):
    fws = [Firework(ScriptTask(script="true"), name=f"fw {i}", fw_id=i) for i in range(1, 1001)]
    links = {i: [i + 1] for i in range(1, 1000)}
    sqlite_lp.add_wf(Workflow(fws, links, name="long chain"))
    client = make_client(sqlite_lp)
    start = time.perf_counter()
    graph = client.get("/api/workflows/1/graph").get_json()
    assert time.perf_counter() - start < 5.0
    # A chain of 1,000 one-firework layers is drawn as 20 spans of 50 layers, linked in a row.
    assert graph["nodes"] == [] and len(graph["groups"]) == 20 and len(graph["edges"]) == 19
    first = graph["groups"][0]
    assert (first["layer"], first["last_layer"], first["count"]) == (0, 49, 50)
    opened = client.get("/api/workflows/1/graph?expand=0-49").get_json()
    assert sorted(n["fw_id"] for n in opened["nodes"]) == list(range(1, 51))
    assert len(opened["groups"]) == 19 and opened["expanded"] == list(range(50))


# -- tails and password files -------------------------------------------------------
def test_output_files_and_safe_paths(tmp_path):
    (tmp_path / "run.out").write_text("a\nb\nc\n")
    (tmp_path / "notes.txt").write_text("not output")
    (tmp_path / "sub.log").mkdir()
    assert output_files(str(tmp_path)) == ["run.out"]
    assert output_files(str(tmp_path / "missing")) == []
    assert tail(str(tmp_path), "run.out", lines=2)["text"] == "b\nc"
    for bad in ("../run.out", "sub.log/x.out", "notes.txt", "a\\b.out", ""):
        with pytest.raises(FileRefusedError):
            safe_path(str(tmp_path), bad)


def test_passwd_tool_writes_a_private_hash(tmp_path, monkeypatch, capsys):
    import io

    path = tmp_path / "gui.passwd"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert passwd_main([str(path), "--stdin"]) == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "s3cret" not in path.read_text()
    settings = create_app({"TESTING": True, "STARSHELL_PASSWORD_FILE": str(path)}, object())
    assert settings.extensions["starshell_auth"].check_password("s3cret")
    assert not settings.extensions["starshell_auth"].check_password("other")


@pytest.mark.parametrize("content", [None, "", "# only a comment\n", "plain-password\n"])
def test_unusable_password_files_are_config_errors(tmp_path, content):
    path = tmp_path / "gui.passwd"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match="webgui.passwd|cannot read"):
        read_password_file(str(path))


def test_serve_binds_localhost_by_default(monkeypatch, sqlite_lp, capsys):
    seen = {}

    class FakeServer:
        server_port = 5000

        def serve_forever(self):
            raise KeyboardInterrupt

        def server_close(self):
            seen["closed"] = True

    def fake_make_server(app, host, port):
        seen.update(host=host, port=port, mode=app.extensions["starshell_auth"].mode())
        return FakeServer()

    monkeypatch.setattr(app_module, "make_server", fake_make_server)
    assert app_module.serve(sqlite_lp) == 0
    assert seen == {"host": "127.0.0.1", "port": 5000, "mode": "no-password", "closed": True}
    assert "http://127.0.0.1:5000/" in capsys.readouterr().err
