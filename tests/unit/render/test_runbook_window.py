"""render/runbook_window.py: where to stand, which option file per database, what to pause."""

from __future__ import annotations

import dataclasses

from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.render.runbook_window import (
    cnf_path,
    connection_files,
    example_cnf,
    pause_items,
    sql_client,
    verify_command,
)
from tests.unit import world as w


def _plan():
    facts = w.vm(instance=w.instance_row(), cell_rows={"instance_metadata": [w.metadata(1, "a")]})
    return plan_vm(facts, VmOptions(op="soft-delete"))


def test_each_role_has_its_own_option_file_and_the_client_reads_it_first():
    assert cnf_path("nova_api") == "~/fixpack-nova_api.cnf"
    assert sql_client("cinder").startswith("mysql --defaults-extra-file=~/fixpack-cinder.cnf ")


def test_verify_names_every_database_of_the_bundle():
    plan = _plan()
    command = verify_command(plan)
    assert command.startswith("fixpack verify . ")
    assert [f"--cnf {db.role}=~/fixpack-{db.role}.cnf" in command for db in plan.databases] == [True] * len(
        plan.databases
    )


def test_a_live_bundle_names_the_server_and_database_never_a_password():
    plan = _plan()
    nova = dataclasses.replace(plan.databases[0], server="nova@db1.example:3306")
    rows = connection_files(dataclasses.replace(plan, databases=(nova,)))
    assert rows[0].path == "`~/fixpack-nova.cnf`"
    assert rows[0].database == "`nova_cell1`" and rows[0].server == "`nova@db1.example:3306`"
    name, lines = example_cnf(plan)
    assert (
        name == "~/fixpack-nova.cnf" and "password = PASSWORD" in lines and "database = nova_cell1" in lines
    )


def test_an_offline_bundle_says_where_to_find_each_database():
    plan = dataclasses.replace(_plan(), mode="offline")
    rows = connection_files(plan)
    assert "cell_mappings" in rows[0].database and "offline" in rows[0].server
    assert "database = DATABASE" in example_cnf(plan)[1]


def test_a_database_name_that_is_not_plain_stays_out_of_the_example_file():
    plan = _plan()
    hostile = dataclasses.replace(plan.databases[0], database="nova`\n```\nrm -rf /")
    assert "database = DATABASE" in example_cnf(dataclasses.replace(plan, databases=(hostile,)))[1]


def test_the_pause_list_names_the_jobs_that_destroy_rows_and_the_compute_host():
    plan = _plan()
    placement = dataclasses.replace(plan.databases[0], role="placement")
    text = "\n".join(pause_items(dataclasses.replace(plan, databases=(*plan.databases, placement))))
    assert "archive_deleted_rows" in text and "nova-manage db purge" in text
    assert "heal_allocations" in text
    assert "nova-compute" in text
    quota = dataclasses.replace(
        _plan(), target_kind="quota", databases=(dataclasses.replace(_plan().databases[0], role="cinder"),)
    )
    assert "cinder-manage db purge" in "\n".join(pause_items(quota))
    assert "nova-compute" not in "\n".join(pause_items(quota))
