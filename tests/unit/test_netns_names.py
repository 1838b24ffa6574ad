"""Naming namespaces from runtime state in real formats (Podman's store, Docker's config, the kubelet's dirs),
written to temp dirs: the runtimes this machine cannot run are proved on their files."""

from __future__ import annotations

import json
from pathlib import Path

from portwatch.collect.namespaces import Found, StatePaths, container_of, name_namespace
from portwatch.collect.published import podman_port_mappings
from portwatch.model import NetnsKind

PODMAN_ID = "8959b5c43181537c6ef8aab579f61679b37e99a1ecf4c5f1985dae04d882a069"
DOCKER_ID = "4f1c0b6b1e9f2d1c3a5e7f9b0d2c4e6a8b0d2f4e6a8c0e2a4c6e8a0c2e4a6c8e"
POD_UID = "7f3a9c2e-1b4d-4e8f-9a0b-c1d2e3f4a5b6"


def state(tmp_path: Path, cgroup: str) -> StatePaths:
    proc = tmp_path / "proc"
    (proc / "4242").mkdir(parents=True)
    (proc / "4242" / "cgroup").write_text(cgroup)
    podman = tmp_path / "containers.json"
    metadata = json.dumps({"image-name": "", "image-id": "", "name": "web-1", "created-at": 1796163790})
    podman.write_text(
        json.dumps(
            [
                {
                    "id": PODMAN_ID,
                    "names": ["web-1"],
                    "image": "",
                    "layer": "x",
                    "metadata": metadata,
                    "created": "2026-12-01T22:00:00Z",
                    "flags": {},
                }
            ]
        )
    )
    docker = tmp_path / "docker"
    (docker / DOCKER_ID).mkdir(parents=True)
    (docker / DOCKER_ID / "config.v2.json").write_text(json.dumps({"ID": DOCKER_ID, "Name": "/shop-db"}))
    pods = tmp_path / "pods"
    (pods / f"payments_api-7d9f_{POD_UID}").mkdir(parents=True)
    return StatePaths(
        proc=str(proc), podman_containers=str(podman), docker_containers=str(docker), kubelet_pods=str(pods)
    )


def test_podman_container_is_named_from_its_store(tmp_path: Path) -> None:
    paths = state(tmp_path, f"9:name=systemd:/libpod_parent/libpod-{PODMAN_ID}\n0::/libpod_parent/libpod-{PODMAN_ID}\n")
    netns = name_namespace(Found(4026532301, ["/run/netns/netns-1b10f8f7-ca09"], [4242]), 1, paths)
    assert (netns.kind, netns.name) == (NetnsKind.CONTAINER, "web-1")


def test_docker_container_is_named_from_its_config(tmp_path: Path) -> None:
    paths = state(tmp_path, f"0::/system.slice/docker-{DOCKER_ID}.scope\n")
    assert container_of((Path(paths.proc) / "4242" / "cgroup").read_text(), paths) == (NetnsKind.CONTAINER, "shop-db")
    paths = state(tmp_path / "v1", f"4:memory:/docker/{DOCKER_ID}\n")
    assert container_of(f"4:memory:/docker/{DOCKER_ID}\n", paths) == (NetnsKind.CONTAINER, "shop-db")


def test_kubernetes_pod_is_named_namespace_slash_pod(tmp_path: Path) -> None:
    slice_uid = POD_UID.replace("-", "_")
    systemd_driver = (
        f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{slice_uid}.slice/"
        "cri-containerd-abc.scope\n"
    )
    paths = state(tmp_path, systemd_driver)
    netns = name_namespace(Found(4026532400, [], [4242]), 1, paths)
    assert (netns.kind, netns.name, netns.label) == (NetnsKind.POD, "payments/api-7d9f", "pod payments/api-7d9f")
    assert container_of(f"4:memory:/kubepods/besteffort/pod{POD_UID}/abc\n", paths) == (
        NetnsKind.POD,
        "payments/api-7d9f",
    )


def test_ip_netns_name_and_bare_inode(tmp_path: Path) -> None:
    paths = state(tmp_path, "0::/\n")
    named = name_namespace(Found(4026532500, ["/run/netns/lab"], [4242]), 1, paths)
    assert (named.kind, named.name) == (NetnsKind.NAMED, "lab")
    bare = name_namespace(Found(4026532600, [], [4242]), 1, paths)
    assert (bare.kind, bare.name) == (NetnsKind.OTHER, "4026532600")
    host = name_namespace(Found(1, [], [4242]), 1, paths)
    assert (host.kind, host.name) == (NetnsKind.HOST, "host")


def test_unknown_container_id_falls_back_to_its_short_id(tmp_path: Path) -> None:
    other = "0" * 64
    paths = state(tmp_path, f"0::/libpod_parent/libpod-{other}\n")
    assert container_of(f"0::/libpod_parent/libpod-{other}\n", paths) == (NetnsKind.CONTAINER, "0" * 12)


def test_podman_port_mappings_are_read_from_the_libpod_boltdb_value(tmp_path: Path) -> None:
    container_id = "ab" * 32
    config = {
        "spec": {"ociVersion": "1.0.2-dev"},
        "id": container_id,
        "name": "web-1",
        "networkMode": "bridge",
        "newPortMappings": [
            {"host_ip": "127.0.0.1", "container_port": 8080, "host_port": 18080, "range": 1, "protocol": "tcp"}
        ],
    }
    stale = dict(config, id="cd" * 32, newPortMappings=[])  # a removed container's page left in the file
    db = tmp_path / "bolt_state.db"
    db.write_bytes(
        b"\x00" * 4096
        + json.dumps(stale, separators=(",", ":")).encode()
        + b"\x00" * 300
        + json.dumps(config, separators=(",", ":")).encode()
        + b"\x00" * 4096
    )
    assert podman_port_mappings(container_id, str(db)) == config["newPortMappings"]
    assert podman_port_mappings("ef" * 32, str(db)) == []
