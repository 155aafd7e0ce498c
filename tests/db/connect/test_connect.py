"""Connections: URLs, service configs, environment, option files, cells — and no password leaks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from generator.connect.cells import discover_cells, fill_template
from generator.connect.session import Session
from generator.connect.sources import ConnectionOptions, parse_cell_overrides, resolve
from generator.connect.urls import parse_url
from generator.errors import ConnectionProblem


def test_url_parsing_and_redaction() -> None:
    url = parse_url("mysql+pymysql://nova:s3cr%40t@db.example.org:3307/nova_cell1?charset=utf8")
    assert (url.user, url.password, url.host, url.port, url.database) == (
        "nova",
        "s3cr@t",
        "db.example.org",
        3307,
        "nova_cell1",
    )
    assert "s3cr" not in str(url) and "s3cr" not in repr(url)
    assert url.redacted() == "mysql+pymysql://nova:***@db.example.org:3307/nova_cell1?charset=utf8"
    assert (
        parse_url("mysql://root@localhost/nova?unix_socket=/run/mysqld.sock").unix_socket
        == "/run/mysqld.sock"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("postgresql://u:p@h/db", "unsupported scheme"),
        ("just-a-hostname", r"expected mysql\+pymysql://"),
        ("mysql+pymysql://u:p@h:notaport/db", "port is not a number"),
    ],
)
def test_bad_urls(text: str, message: str) -> None:
    with pytest.raises(ConnectionProblem, match=message) as err:
        parse_url(text)
    assert ":p@" not in str(err.value)


def test_precedence_explicit_then_environment_then_config(tmp_path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text(
        "[DEFAULT]\ndebug = true\n[api_database]\nconnection = mysql+pymysql://nova:x@conf/nova_api\n"
        "[database]\nconnection = mysql+pymysql://nova:x@conf/nova\n"
    )
    env = {"FIXPACK_NOVA_URL": "mysql+pymysql://nova@envhost/nova_cell1"}
    targets = resolve(
        ConnectionOptions(urls={"placement": "mysql://p@explicit/placement"}, nova_conf=str(conf)), env=env
    )
    assert targets.get("nova_api").url.host == "conf"
    assert targets.get("nova_api").source == f"{conf} [api_database] connection"
    assert targets.get("nova").url.host == "envhost" and targets.get("nova").source == "$FIXPACK_NOVA_URL"
    assert targets.get("placement").url.host == "explicit"
    assert targets.get("cinder") is None


def test_missing_files_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ConnectionProblem, match="configuration file not found"):
        resolve(ConnectionOptions(nova_conf=str(tmp_path / "none.conf")), env={})
    with pytest.raises(ConnectionProblem, match="option file not found"):
        resolve(ConnectionOptions(defaults_file=str(tmp_path / "none.cnf")), env={})
    with pytest.raises(ConnectionProblem, match="NAME_OR_UUID=URL"):
        parse_cell_overrides(("cell1",))


def test_cell_template_is_filled_like_nova() -> None:
    base = parse_url("mysql+pymysql://nova:pw@ctl.example.org:3306/nova_api?charset=utf8")
    text = fill_template("mysql+pymysql://{username}:{password}@{hostname}:{port}/nova_cell1?{query}", base)
    assert text == "mysql+pymysql://nova:pw@ctl.example.org:3306/nova_cell1?charset=utf8"


def test_cnf_option_file_per_role_reads_client_then_mysql_groups(tmp_path) -> None:
    """`--cnf nova=~/fixpack-nova.cnf`: the runbook's file, read as the mysql client reads it."""
    from generator.connect.optionfile import parse_cnf_options

    cnf = tmp_path / "fixpack-nova.cnf"
    cnf.write_text(
        "[client]\nhost = db1.example\nport = 3307\nuser = fixpack\npassword = 's3cret'\nskip-ssl\n"
        "[mysqldump]\ndatabase = wrong\n[mysql]\ndatabase = nova_cell1\n"
    )
    targets = resolve(ConnectionOptions(cnf_files=parse_cnf_options((f"nova={cnf}",))), env={})
    url = targets.get("nova").url
    assert (url.host, url.port, url.user, url.password, url.database) == (
        "db1.example", 3307, "fixpack", "s3cret", "nova_cell1",
    )  # fmt: skip
    assert "s3cret" not in str(url) and targets.get("nova").source == f"--cnf nova={cnf}"
    for bad, message in (
        ("nova", "expects ROLE=FILE"),
        ("keystone=/x", "not a database role"),
    ):
        with pytest.raises(ConnectionProblem, match=message):
            parse_cnf_options((bad,))
    with pytest.raises(ConnectionProblem, match="given twice"):
        parse_cnf_options((f"nova={cnf}", f"nova={cnf}"))
    nameless = tmp_path / "nameless.cnf"
    nameless.write_text("[client]\nuser = x\n")
    with pytest.raises(ConnectionProblem, match="names no database"):
        resolve(ConnectionOptions(cnf_files={"cinder": str(nameless)}), env={})
    with pytest.raises(ConnectionProblem, match="not found"):
        resolve(ConnectionOptions(cnf_files={"cinder": str(tmp_path / "none.cnf")}), env={})


@pytest.mark.db
def test_option_file_supplies_the_password_and_wrong_ones_never_print(
    db_server, make_deployment, tmp_path
) -> None:
    dep = make_deployment("2024.2")
    secret = "Tr0ub4dor-&3"
    dep.execute("nova_api", "CREATE USER IF NOT EXISTS 'fixpack_ro'@'%%' IDENTIFIED BY %s", (secret,))
    dep.execute("nova_api", f"GRANT SELECT ON `{dep.names['nova_api']}`.* TO 'fixpack_ro'@'%'")
    url = dep.url("nova_api")
    cnf = tmp_path / "fixpack.cnf"
    cnf.write_text(f"[client]\nuser = fixpack_ro\npassword = {secret}\n")
    plain = f"mysql+pymysql://fixpack_ro@{url.host}:{url.port}/{url.database}"
    with Session(parse_url(plain), label="nova_api", defaults_file=str(cnf)) as session:
        assert session.query("SELECT COUNT(*) AS n FROM cell_mappings")[0]["n"] == 2
    with pytest.raises(ConnectionProblem, match="access denied") as err:
        Session(
            parse_url(f"mysql+pymysql://fixpack_ro:wrong-{secret}@{url.host}:{url.port}/{url.database}"),
            label="nova_api",
        )
    assert secret not in str(err.value)
    # through the CLI: one line, no password
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "schema",
            "detect",
            "--nova-api-url",
            f"mysql+pymysql://fixpack_ro:wrong-{secret}@{url.host}:{url.port}/{url.database}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and secret not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "access denied" in done.stderr


@pytest.mark.db
def test_cells_found_from_nova_api_and_detected(make_deployment) -> None:
    dep = make_deployment("2023.1")
    with Session(dep.url("nova_api"), label="nova_api") as api:
        cells = discover_cells(api, dep.url("nova_api"))
    assert [c.name for c in cells] == ["cell0", "cell1"]
    assert cells[1].url.database == dep.names["nova"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "schema",
            "detect",
            "--nova-api-url",
            dep.url("nova_api").render(with_password=True),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout)
    kinds = sorted(d["kind"] for d in report["databases"])
    assert kinds == ["nova", "nova", "nova_api"]
    assert all("2023.1" in d["candidates"] for d in report["databases"])
    assert all(d["differences_from_catalog"] == 0 for d in report["databases"])


@pytest.mark.db
def test_detect_refuses_a_database_that_is_not_openstack(db_server, make_deployment) -> None:
    dep = make_deployment("2024.1")
    dep.execute("nova_api", "CREATE DATABASE IF NOT EXISTS fixpack_not_openstack")
    url = dep.url("nova_api").with_database("fixpack_not_openstack")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "schema",
            "detect",
            "--cinder-url",
            url.render(with_password=True),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    dep.execute("nova_api", "DROP DATABASE fixpack_not_openstack")
    assert done.returncode != 0
    assert "not a Nova, Nova API, Placement or Cinder database" in done.stderr


@pytest.mark.db
def test_a_session_starts_read_only_in_utc_in_one_round_trip(make_deployment) -> None:
    dep = make_deployment("2025.1")
    with Session(dep.url("nova"), label="nova") as session:
        assert session.counter.count == 1  # time zone, read-only, snapshot: one multi-statement
        assert session.query("SELECT @@session.time_zone AS tz") == [{"tz": "+00:00"}]
        with pytest.raises(ConnectionProblem, match="READ ONLY"):  # MariaDB and MySQL say so
            session.query("UPDATE instances SET hostname = 'x' WHERE id = 0")
