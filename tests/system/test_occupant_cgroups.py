"""Real children in real unit-, docker- and kubepods-shaped cgroups: portwatch names the unit, container and pod."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portwatch.collect.attribution import Attribution
from portwatch.collect.cgroups import Occupants, PodDirectory, RuntimeState
from portwatch.collect.linux import LinuxCollector
from portwatch.model import ContainerRef, Listener, Owner, PodRef, UnitRef
from tests.support import Child
from tests.system.occupant_support import PlacedCgroup, portwatch, random_hex, who_json

Spawn = Callable[..., Child]


@pytest.fixture
def placed() -> Iterator[Callable[[str], PlacedCgroup]]:
    made: list[PlacedCgroup] = []

    def make(relative: str) -> PlacedCgroup:
        group = PlacedCgroup(relative)
        made.append(group)
        return group

    yield make
    for group in reversed(made):
        group.close()


def owner_on(collector: LinuxCollector, port: int, pid: int) -> Owner:
    found: list[Listener] = [entry for entry in collector.scan().listeners if entry.port == port]
    assert found, f"port {port} not in the scan"
    return next(owner for owner in found[0].owners if owner.pid == pid)


def test_child_in_a_service_cgroup_is_named_by_its_unit(spawn: Spawn, placed: Callable[[str], PlacedCgroup]) -> None:
    unit = f"pwat-{random_hex(8)}.service"
    child = spawn("tcp", "127.0.0.1")
    placed(f"system.slice/{unit}").add(child.pid)
    [row] = who_json(child.port)
    [owner] = [o for o in row["owners"] if o["pid"] == child.pid]
    assert owner["unit"] == {"name": unit, "kind": "service", "user_uid": None}
    assert owner["container"] is None and owner["pod"] is None
    listed = json.loads(portwatch("list", "--json").stdout)
    [entry] = [e for e in listed if e["port"] == child.port]
    assert entry["owners"][0]["unit"]["name"] == unit  # list --json carries it without --packages
    assert f"unit     {unit}" in portwatch("who", str(child.port)).stdout


def test_child_under_a_user_manager_is_that_users_unit(spawn: Spawn, placed: Callable[[str], PlacedCgroup]) -> None:
    unit = f"pwat-{random_hex(8)}.service"
    child = spawn("tcp", "127.0.0.1")
    placed(f"user.slice/user-4242.slice/user@4242.service/app.slice/{unit}").add(child.pid)
    assert owner_on(LinuxCollector(), child.port, child.pid).unit == UnitRef(unit, "service", 4242)


def test_child_in_a_login_session_is_not_a_service(spawn: Spawn, placed: Callable[[str], PlacedCgroup]) -> None:
    child = spawn("tcp", "127.0.0.1")
    placed("user.slice/user-4242.slice/session-pwat9.scope").add(child.pid)
    found = owner_on(LinuxCollector(), child.port, child.pid).unit
    assert found is not None and found.kind == "session" and found.text == "login session pwat9"


def test_docker_scope_gives_the_container_named_from_its_config(
    spawn: Spawn, tmp_path: Path, placed: Callable[[str], PlacedCgroup]
) -> None:
    container_id = random_hex()
    (tmp_path / container_id).mkdir()
    (tmp_path / container_id / "config.v2.json").write_text(
        json.dumps({"ID": container_id, "Name": "/pwat-web-1", "Config": {"Image": "nginx:1.27", "Hostname": "x"}})
    )
    child = spawn("tcp", "127.0.0.1")
    placed(f"system.slice/docker-{container_id}.scope").add(child.pid)
    collector = LinuxCollector(
        attribution=Attribution(occupants=Occupants(runtimes=RuntimeState(docker_root=tmp_path)))
    )
    owner = owner_on(collector, child.port, child.pid)
    assert owner.container == ContainerRef("docker", container_id, "pwat-web-1", "nginx:1.27")
    assert owner.occupant == "pwat-web-1 (docker, image nginx:1.27)"
    # Where the runtime's state cannot be read, the id alone: never a guessed name.
    [row] = who_json(child.port)
    assert row["owners"][0]["container"] == {"runtime": "docker", "id": container_id, "name": None, "image": None}


def test_kubepods_slice_gives_pod_namespace_and_name(
    spawn: Spawn, tmp_path: Path, placed: Callable[[str], PlacedCgroup]
) -> None:
    pod_uid = str(uuid.uuid4())
    container_id = random_hex()
    (tmp_path / f"pwat-ns_pwat-pod-7d9f_{pod_uid}").mkdir()
    slice_uid = pod_uid.replace("-", "_")
    child = spawn("tcp", "127.0.0.1")
    placed(
        "kubepods.slice/kubepods-besteffort.slice/"
        f"kubepods-besteffort-pod{slice_uid}.slice/cri-containerd-{container_id}.scope"
    ).add(child.pid)
    collector = LinuxCollector(attribution=Attribution(occupants=Occupants(pods=PodDirectory(tmp_path))))
    owner = owner_on(collector, child.port, child.pid)
    assert owner.pod == PodRef(pod_uid, "pwat-ns", "pwat-pod-7d9f")
    assert owner.container is not None and (owner.container.runtime, owner.container.id) == ("containerd", container_id)
    assert owner.occupant is not None and owner.occupant.startswith("pod pwat-ns/pwat-pod-7d9f")
    [row] = who_json(child.port)  # the real /var/log/pods has no such pod: the uid, honestly
    assert row["owners"][0]["pod"] == {"uid": pod_uid, "namespace": None, "name": None}


def test_baseline_save_records_the_unit_and_matches_on_it(
    spawn: Spawn, tmp_path: Path, placed: Callable[[str], PlacedCgroup]
) -> None:
    unit = f"pwat-{random_hex(8)}.service"
    child = spawn("tcp", "127.0.0.1")
    group = placed(f"system.slice/{unit}")
    group.add(child.pid)
    path = tmp_path / "baseline.toml"
    saved = portwatch("baseline", "save", str(path))
    assert saved.returncode == 0, saved.stderr
    text = path.read_text()
    block = text[text.index(f"port = {child.port}\n") :].split("[[listener]]")[0]
    assert f'unit = "{unit}"' in block
    # The same listener in another unit is not the expected one.
    other = placed(f"system.slice/pwat-other-{random_hex(8)}.service")
    other.add(child.pid)
    [row] = json.loads(portwatch("who", "--json", "--baseline", str(path), str(child.port)).stdout)
    assert "not-in-baseline" in [flag["code"] for flag in row["flags"]]
