"""The unit or container a stop may offer, read from /proc/PID/cgroup text (fixed text: no /proc here)."""

from __future__ import annotations

from portwatch.collect.stop_attribution import container_from_cgroup, container_from_cmdline, unit_from_cgroup
from portwatch.stop_plan import Container

ID = "a" * 64


def test_system_unit_from_cgroup_v1_name_systemd() -> None:
    text = "9:name=systemd:/system.slice/nginx.service\n4:memory:/system.slice/nginx.service\n"
    assert unit_from_cgroup(text) == "nginx.service"


def test_system_unit_from_cgroup2() -> None:
    assert unit_from_cgroup("0::/system.slice/postgresql@15-main.service\n") == "postgresql@15-main.service"


def test_user_units_and_scopes_are_not_offered() -> None:
    assert unit_from_cgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n") is None
    assert unit_from_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n") is None
    assert unit_from_cgroup("0::/\n9:name=systemd:/\n") is None


def test_name_systemd_wins_over_other_hierarchies() -> None:
    text = "4:memory:/process_api/other.service\n9:name=systemd:/system.slice/real.service\n"
    assert unit_from_cgroup(text) == "real.service"


def test_podman_container_from_its_cgroup_and_from_conmon() -> None:
    assert container_from_cgroup(f"0::/machine.slice/libpod-{ID}.scope\n") == Container("podman", ID)
    assert container_from_cgroup(f"1:name=systemd:/libpod_parent/libpod-{ID}\n") == Container("podman", ID)
    assert container_from_cgroup(f"0::/machine.slice/libpod-conmon-{ID}.scope\n") == Container("podman", ID)


def test_docker_container_from_both_cgroup_managers() -> None:
    assert container_from_cgroup(f"0::/system.slice/docker-{ID}.scope\n") == Container("docker", ID)
    assert container_from_cgroup(f"4:memory:/docker/{ID}\n") == Container("docker", ID)


def test_no_container_for_plain_processes_or_malformed_lines() -> None:
    assert container_from_cgroup("0::/system.slice/docker.service\nnot a line\n") is None
    assert container_from_cgroup("0::/docker/short\n") is None


CONMON = (
    "/usr/bin/conmon",
    "--api-version",
    "1",
    "-c",
    ID,
    "-u",
    ID,
    "-r",
    "/usr/bin/runc",
    "-n",
    "web-demo",
    "--exit-command",
    "/usr/bin/podman",
    "--exit-command-arg",
    "--root",
)


def test_conmon_names_its_podman_container_as_a_placeholder() -> None:
    assert container_from_cmdline(CONMON) == Container("podman", "web-demo", placeholder=True)


def test_conmon_without_a_name_falls_back_to_the_id() -> None:
    argv = tuple(part for index, part in enumerate(CONMON) if part != "-n" and CONMON[index - 1] != "-n")
    assert container_from_cmdline(argv) == Container("podman", ID, placeholder=True)


def test_cri_o_conmon_and_other_programs_are_not_podman_containers() -> None:
    assert (
        container_from_cmdline(("/usr/bin/conmon", "-c", ID, "-n", "k8s_x", "--exit-command", "/usr/bin/crio")) is None
    )
    assert container_from_cmdline(("/usr/bin/python3", "-n", "x")) is None
    assert container_from_cmdline(()) is None
