"""Reading unit, container and pod from cgroup paths and the runtimes' state text, on real-format strings."""

from __future__ import annotations

import json

import pytest

from portwatch.collect.cgroup_paths import (
    Placement,
    cgroup_paths,
    conmon_container,
    container_of,
    docker_container,
    placement,
    pod_from_dir,
    pod_of,
    podman_containers,
    unit_of,
)
from portwatch.model import PodRef, UnitRef

ID = "8959b5c4e0d4a0f1c5e7b6a3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5a069"
UID = "7a1c9f3e-5b2d-4e8f-9a0b-1c2d3e4f5a6b"

#: This machine's hybrid layout with a cgroupfs Podman container (env-components.md).
PODMAN_HYBRID = (
    "\n".join(
        [
            f"9:name=systemd:/libpod_parent/libpod-{ID}",
            f"8:pids:/libpod_parent/libpod-{ID}",
            f"4:memory:/libpod_parent/libpod-{ID}",
            f"1:cpu:/libpod_parent/libpod-{ID}",
            f"0::/libpod_parent/libpod-{ID}",
        ]
    )
    + "\n"
)


@pytest.mark.parametrize(
    ("path", "unit"),
    [
        ("/system.slice/nginx.service", UnitRef("nginx.service", "service")),
        ("/system.slice/system-getty.slice/getty@tty1.service", UnitRef("getty@tty1.service", "service")),
        ("/system.slice/postgresql@15-main.service", UnitRef("postgresql@15-main.service", "service")),
        ("/system.slice/docker.service/payload", UnitRef("docker.service", "service")),  # a service's sub-cgroup
        ("/system.slice/ssh.socket", UnitRef("ssh.socket", "socket")),
        ("/init.scope", UnitRef("init.scope", "scope")),
        (
            "/user.slice/user-1000.slice/user@1000.service/app.slice/pipewire.service",
            UnitRef("pipewire.service", "service", 1000),
        ),
        (
            "/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-4242.scope",
            UnitRef("app-gnome-firefox-4242.scope", "scope", 1000),
        ),
        ("/user.slice/user-1000.slice/user@1000.service/init.scope", UnitRef("user@1000.service", "service")),
        ("/user.slice/user-1000.slice/session-3.scope", UnitRef("session-3.scope", "session")),
        ("/system.slice/docker-" + ID + ".scope", UnitRef(f"docker-{ID}.scope", "scope")),
        ("/", None),
        ("/user.slice", None),
        (f"/libpod_parent/libpod-{ID}", None),
        ("/process_api/6401131f9b7ca513c609f1e33dad46bc", None),
    ],
)
def test_unit_of_a_cgroup_path(path: str, unit: UnitRef | None) -> None:
    assert unit_of(path) == unit


def test_session_is_a_login_not_a_service() -> None:
    session = unit_of("/user.slice/user-1000.slice/session-3.scope")
    assert session is not None and session.text == "login session 3"
    user_unit = unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/pipewire.service")
    assert user_unit is not None and user_unit.text == "pipewire.service (user 1000)"


@pytest.mark.parametrize(
    ("path", "found"),
    [
        (f"/system.slice/docker-{ID}.scope", ("docker", ID)),
        (f"/docker/{ID}", ("docker", ID)),
        (f"/libpod_parent/libpod-{ID}", ("podman", ID)),
        (f"/machine.slice/libpod-{ID}.scope", ("podman", ID)),
        (f"/machine.slice/libpod-{ID}.scope/container", ("podman", ID)),
        (f"/machine.slice/libpod-conmon-{ID}.scope", None),  # conmon's own scope is not the container
        ("/libpod_parent/conmon", None),
        (
            f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID.replace('-', '_')}.slice/"
            f"cri-containerd-{ID}.scope",
            ("containerd", ID),
        ),
        (
            f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID.replace('-', '_')}.slice/"
            f"crio-{ID}.scope",
            ("cri-o", ID),
        ),
        (f"/kubepods.slice/kubepods-pod{UID.replace('-', '_')}.slice/crio-conmon-{ID}.scope", None),
        (f"/kubepods/besteffort/pod{UID}/{ID}", ("kubernetes", ID)),
        (f"/kubepods/pod{UID}/{ID}", ("kubernetes", ID)),
        (f"/system.slice/{ID}", None),  # a bare id outside docker/ or a pod is nobody's container
        ("/system.slice/docker-abc.scope", None),  # not a 64-hex id
        ("/system.slice/nginx.service", None),
    ],
)
def test_container_of_a_cgroup_path(path: str, found: tuple[str, str] | None) -> None:
    assert container_of(path) == found


@pytest.mark.parametrize(
    ("path", "uid"),
    [
        (
            f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID.replace('-', '_')}.slice/"
            f"cri-containerd-{ID}.scope",
            UID,
        ),
        (f"/kubepods.slice/kubepods-pod{UID.replace('-', '_')}.slice/crio-{ID}.scope", UID),  # guaranteed QoS
        (f"/kubepods/burstable/pod{UID}/{ID}", UID),
        (f"/kubepods/pod{UID}", UID),
        (f"/system.slice/pod{UID}", None),  # not under kubepods
        (f"/libpod_parent/libpod-{ID}", None),
    ],
)
def test_pod_of_a_cgroup_path(path: str, uid: str | None) -> None:
    assert pod_of(path) == uid


def test_cgroup_file_puts_systemd_first_then_v2_then_the_rest() -> None:
    text = "12:cpu,cpuacct:/a\n9:name=systemd:/system.slice/x.service\n0::/system.slice/y.service\n"
    assert cgroup_paths(text) == ("/system.slice/x.service", "/system.slice/y.service", "/a")
    assert cgroup_paths("garbage\n\n") == ()


def test_placement_of_a_podman_container_on_a_hybrid_host() -> None:
    assert placement(PODMAN_HYBRID) == Placement(None, ("podman", ID), None)


def test_placement_on_pure_cgroup2_with_systemd() -> None:
    text = f"0::/system.slice/docker-{ID}.scope\n"
    assert placement(text) == Placement(UnitRef(f"docker-{ID}.scope", "scope"), ("docker", ID), None)


def test_placement_of_a_kubernetes_container() -> None:
    path = (
        f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID.replace('-', '_')}.slice/"
        f"cri-containerd-{ID}.scope"
    )
    found = placement(f"0::{path}\n")
    assert found.container == ("containerd", ID) and found.pod_uid == UID


def test_unit_comes_only_from_systemd_hierarchies() -> None:
    # A v1 controller's path (here cpu) does not name a unit when systemd's own hierarchy says "/".
    text = "9:name=systemd:/\n1:cpu:/system.slice/x.service\n0::/\n"
    assert placement(text).unit is None


@pytest.mark.parametrize(
    ("entry", "pod"),
    [
        (f"kube-system_coredns-5d78c9869d-abcde_{UID}", PodRef(UID, "kube-system", "coredns-5d78c9869d-abcde")),
        (f"default_web_{UID}", PodRef(UID, "default", "web")),
        ("not-a-pod-dir", None),
        (f"a_b_c_{UID}", None),
        (f"_web_{UID}", None),
    ],
)
def test_kubelet_pod_directory_names(entry: str, pod: PodRef | None) -> None:
    assert pod_from_dir(entry) == pod


def test_podman_containers_json_as_podman_writes_it() -> None:
    text = json.dumps(
        [
            {
                "id": ID,
                "names": ["pwtest"],
                "image": "",
                "layer": "586e63db",
                "metadata": json.dumps({"image-name": "", "image-id": "", "name": "pwtest", "created-at": 1796163586}),
                "created": "2026-12-01T22:19:46.300590318Z",
                "flags": {"MountLabel": "", "ProcessLabel": ""},
            },
            {
                "id": "b" * 64,
                "names": ["web"],
                "image": "e4720093a3c1",
                "metadata": json.dumps({"image-name": "docker.io/library/nginx:1.27", "name": "web"}),
            },
        ]
    )
    assert podman_containers(text) == {ID: ("pwtest", None), "b" * 64: ("web", "docker.io/library/nginx:1.27")}


@pytest.mark.parametrize("text", ["", "{", "{}", '[1, null, {"names": []}]'])
def test_podman_containers_json_that_is_not_a_store(text: str) -> None:
    assert podman_containers(text) == {}


def test_docker_config_v2_json() -> None:
    text = json.dumps({"ID": ID, "Name": "/web-1", "Config": {"Image": "nginx:1.27", "Env": []}, "State": {}})
    assert docker_container(text) == ("web-1", "nginx:1.27")
    assert docker_container("{") == (None, None)
    assert docker_container(json.dumps({"Name": "/", "Config": None})) == (None, None)


def test_conmon_names_its_container_in_its_argv() -> None:
    argv = ("/usr/bin/conmon", "--api-version", "1", "-c", ID, "-u", ID, "-r", "/usr/bin/runc", "-n", "pwtest")
    assert conmon_container("conmon", argv) == ("podman", ID)
    assert conmon_container("conmon", ("/usr/bin/conmon", "-c", "short")) is None
    assert conmon_container("sleep", argv) is None  # only conmon itself: a lookalike argv on another program
