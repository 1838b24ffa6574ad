"""Which process a stop may touch: every decision of portwatch.stop_plan, from fixed facts."""

from __future__ import annotations

from portwatch import ranges
from portwatch.model import Family, Listener, Owner, OwnerStatus, Proto
from portwatch.stop_plan import (
    Container,
    Holder,
    Method,
    Outcome,
    Result,
    StopRequest,
    master_of,
    plan_lines,
    plan_stop,
)

OWN_PID, PARENT, GRANDPARENT = 5000, 4000, 3000


def listener(*pids: int, status: OwnerStatus = OwnerStatus.KNOWN, name: str = "srv") -> Listener:
    return Listener(
        proto=Proto.TCP,
        family=Family.IPV4,
        address="127.0.0.1",
        port=8080,
        port_range=ranges.iana_range(8080),
        os_ephemeral=False,
        exposure=ranges.exposure("127.0.0.1"),
        owners=tuple(Owner(pid, name, "dev") for pid in pids),
        owner_status=status,
        inodes=(77,),
    )


def holder(pid: int, ppid: int = 100, **facts: object) -> Holder:
    return Holder(pid=pid, ppid=ppid, name=str(facts.pop("name", "srv")), user="dev", start=1000 + pid, **facts)  # type: ignore[arg-type]


def request(*holders: Holder, changed: tuple[int, ...] = (), entry: Listener | None = None) -> StopRequest:
    entry = entry or listener(*(h.pid for h in holders), *changed)
    return StopRequest(entry, holders, changed, OWN_PID, (PARENT, GRANDPARENT, 1))


def test_a_single_holder_is_the_target_with_sigterm_and_sigkill() -> None:
    plan = plan_stop(request(holder(4242)))
    assert plan.refusal is None and plan.target is not None and plan.target.pid == 4242
    assert [option.method for option in plan.options] == [Method.TERM, Method.KILL]
    assert plan.option(Method.TERM) is not None and plan.option(Method.TERM).command == "kill -TERM 4242"  # type: ignore[union-attr]


def test_pre_fork_group_targets_the_master_and_says_so() -> None:
    plan = plan_stop(request(holder(1202, ppid=1201), holder(1201, ppid=1), holder(1203, ppid=1201)))
    assert plan.target is not None and plan.target.pid == 1201
    assert any("master" in note and "1202, 1203" in note for note in plan.notes)
    assert {h.pid for h in plan.others} == {1202, 1203}


def test_master_found_through_a_chain_of_holders() -> None:
    holders = (holder(10, ppid=1), holder(11, ppid=10), holder(12, ppid=11))
    assert master_of(holders) is holders[0]


def test_a_worker_is_signalled_only_when_picked() -> None:
    plan = plan_stop(request(holder(1201, ppid=1), holder(1202, ppid=1201)), pick=1202)
    assert plan.refusal is None and plan.target is not None and plan.target.pid == 1202
    assert any("only pid 1202" in note for note in plan.notes)


def test_a_pick_outside_the_holders_is_refused() -> None:
    plan = plan_stop(request(holder(1201)), pick=999)
    assert plan.target is None and plan.refusal is not None and "999 does not hold" in plan.refusal


def test_unrelated_holders_are_refused_until_one_is_picked() -> None:
    plan = plan_stop(request(holder(20, ppid=1), holder(30, ppid=2000)))
    assert plan.target is None and plan.refusal is not None and "unrelated" in plan.refusal
    assert not plan.options


def test_pid_1_is_never_a_target() -> None:
    plan = plan_stop(request(holder(1, ppid=0)))
    assert plan.refusal is not None and "init" in plan.refusal and not plan.options


def test_a_kernel_thread_is_refused() -> None:
    plan = plan_stop(request(holder(77, ppid=2, kernel_thread=True)))
    assert plan.refusal is not None and "kernel thread" in plan.refusal and not plan.options


def test_portwatch_itself_is_refused() -> None:
    plan = plan_stop(request(holder(OWN_PID, ppid=PARENT)))
    assert plan.refusal is not None and "portwatch itself" in plan.refusal


def test_portwatchs_parent_and_ancestors_are_refused() -> None:
    parent = plan_stop(request(holder(PARENT, ppid=GRANDPARENT)))
    assert parent.refusal is not None and "portwatch's parent" in parent.refusal
    ancestor = plan_stop(request(holder(GRANDPARENT, ppid=1)))
    assert ancestor.refusal is not None and "ancestor of portwatch" in ancestor.refusal


def test_a_master_that_is_portwatchs_parent_is_refused_even_with_workers() -> None:
    plan = plan_stop(request(holder(PARENT, ppid=GRANDPARENT), holder(4001, ppid=PARENT)))
    assert plan.refusal is not None and not plan.options


def test_hidden_owner_gets_the_reason_not_an_attempt() -> None:
    plan = plan_stop(request(entry=listener(status=OwnerStatus.HIDDEN)))
    assert plan.target is None and plan.refusal is not None and "sudo" in plan.refusal


def test_no_visible_owner_is_refused() -> None:
    plan = plan_stop(request(entry=listener(status=OwnerStatus.UNKNOWN)))
    assert plan.target is None and plan.refusal is not None and "no process" in plan.refusal


def test_every_owner_changed_since_the_scan_is_refused() -> None:
    plan = plan_stop(request(changed=(4242,)))
    assert plan.target is None and plan.refusal is not None and "changed hands" in plan.refusal


def test_one_owner_changed_leaves_the_other_as_target_with_a_note() -> None:
    plan = plan_stop(request(holder(10), changed=(11,)))
    assert plan.target is not None and plan.target.pid == 10
    assert any("11" in note for note in plan.notes)


def test_systemctl_offered_only_with_a_known_unit() -> None:
    with_unit = plan_stop(request(holder(10, unit="nginx.service")))
    option = with_unit.option(Method.SYSTEMCTL)
    assert option is not None and option.argv == ("systemctl", "stop", "nginx.service")
    assert plan_stop(request(holder(10))).option(Method.SYSTEMCTL) is None


def test_container_stop_offered_with_its_engine() -> None:
    podman = plan_stop(request(holder(10, container=Container("podman", "web"))))
    assert podman.option(Method.PODMAN) is not None and podman.option(Method.PODMAN).command == "podman stop web"  # type: ignore[union-attr]
    docker = plan_stop(request(holder(10, container=Container("docker", "db"))))
    assert docker.option(Method.DOCKER) is not None and docker.option(Method.PODMAN) is None


def test_plan_lines_show_a_hostile_name_and_unit_as_escapes() -> None:
    hostile = "\x1b]52;c;aGk=\x07[/]"
    plan = plan_stop(request(holder(10, name=hostile, exe="/tmp/\x1b[2Jx", unit="a\x1b.service")))
    text = "\n".join(plan_lines(plan))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]52;c;aGk=\\x07[/]" in text and "kill -TERM 10" in text


def test_a_hostile_container_name_is_quoted_in_the_command() -> None:
    plan = plan_stop(request(holder(10, container=Container("docker", "x; rm -rf /"))))
    option = plan.option(Method.DOCKER)
    assert option is not None and option.command == "docker stop 'x; rm -rf /'"


def test_outcomes_say_whether_sigkill_is_offered_and_whether_it_is_gone() -> None:
    assert Outcome(Result.IGNORED, "").offer_kill
    assert not Outcome(Result.GONE, "").offer_kill and Outcome(Result.GONE, "").gone
    assert Outcome(Result.ALREADY_GONE, "").gone and not Outcome(Result.CHANGED, "").gone


def test_a_container_placeholder_is_explained_and_its_container_stop_offered() -> None:
    plan = plan_stop(request(holder(10, name="conmon", container=Container("podman", "web", placeholder=True))))
    assert any("only holds the port for podman container web" in note for note in plan.notes)
    assert plan.option(Method.PODMAN) is not None and plan.option(Method.TERM) is not None
