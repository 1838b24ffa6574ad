"""The text that explains ownerless sockets and names packages: ip/wg output, unit files, mountinfo, md5sums."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portwatch.collect.dpkg import parse_md5sums, path_spellings
from portwatch.collect.packages import rpm_verify_digest
from portwatch.collect.socket_units import SocketUnit, matching, parse_socket_unit
from portwatch.collect.unowned import (
    UnownedExplainer,
    capabilities,
    link_ports,
    names_port,
    nfsd_ports,
    proc_mount_options,
    wireguard_ports,
)


def test_vxlan_and_geneve_ports_from_ip_json() -> None:
    document = json.loads(
        json.dumps(
            [
                {"ifindex": 1, "ifname": "lo", "link_type": "loopback"},
                {
                    "ifname": "vx0",
                    "linkinfo": {
                        "info_kind": "vxlan",
                        "info_data": {
                            "id": 42,
                            "local": "127.0.0.1",
                            "port_range": {"low": 0, "high": 0},
                            "port": 4789,
                            "learning": False,
                        },
                    },
                },
                {"ifname": "gn0", "linkinfo": {"info_kind": "geneve", "info_data": {"id": 7, "port": 6081}}},
                {"ifname": "br0", "linkinfo": {"info_kind": "bridge", "info_data": {"stp_state": 0}}},
                {"ifname": "odd", "linkinfo": {"info_kind": "vxlan", "info_data": None}},
            ]
        )
    )
    assert link_ports(document) == {
        ("udp", 4789): "the kernel's VXLAN device vx0 (VNI 42)",
        ("udp", 6081): "the kernel's Geneve device gn0 (VNI 7)",
    }
    assert link_ports({"not": "a list"}) == {}


def test_wireguard_listen_ports() -> None:
    assert wireguard_ports("wg0\t51820\nwg1\t0\n\n") == {("udp", 51820): "the kernel's WireGuard interface wg0"}


def test_nfsd_portlist() -> None:
    assert nfsd_ports("tcp 2049\nudp 2049\nrdma 20049\n") == {
        ("tcp", 2049): "the kernel NFS server (nfsd)",
        ("udp", 2049): "the kernel NFS server (nfsd)",
    }


@pytest.mark.parametrize(
    ("mountinfo", "hiding"),
    [
        ("22 27 0:21 / /proc rw,relatime - proc proc rw\n", None),
        ("22 27 0:21 / /proc rw,nosuid shared:12 - proc proc rw,hidepid=invisible,gid=27\n", "hidepid=invisible"),
        ("22 27 0:21 / /proc rw - proc proc rw,hidepid=2\n", "hidepid=2"),
        ("22 27 0:21 / /proc rw - proc proc rw,hidepid=0\n", None),
        ("22 27 0:21 / /proc rw - proc proc rw,subset=pid,hidepid=ptraceable\n", "subset=pid,hidepid=ptraceable"),
        ("30 27 0:21 / /proc/sys ro - proc proc rw,hidepid=2\n", None),  # not /proc itself
    ],
)
def test_proc_mount_options(mountinfo: str, hiding: str | None) -> None:
    assert proc_mount_options(mountinfo) == hiding


def test_capabilities_from_status() -> None:
    caps = capabilities("Name:\tx\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n")
    assert caps is not None and caps >> 19 & 1 and not caps >> 24 & 1  # CAP_SYS_PTRACE yes, SYS_RESOURCE no
    assert capabilities("Name:\tx\n") is None


@pytest.mark.parametrize(
    ("cmdline", "port", "names"),
    [
        ("/process_api --firecracker-init --addr 0.0.0.0:2024 --max-ws-buffer-size 32768", 2024, True),
        ("/process_api --addr 0.0.0.0:2024", 20, False),
        ("redis-server --port 6379", 6379, True),
        ("server --listen=[::]:8080", 8080, True),
        ("sleep 2024", 2024, False),  # a number is not a port unless an option says so
    ],
)
def test_command_line_naming_a_port(cmdline: str, port: int, names: bool) -> None:
    assert names_port(cmdline, "0.0.0.0", port) is names


def test_socket_unit_files() -> None:
    ssh = parse_socket_unit(
        "ssh.socket",
        "[Unit]\nDescription=OpenBSD Secure Shell server socket\n"
        "Before=sockets.target\n\n[Socket]\nListenStream=22\nAccept=yes\n",
    )
    assert ssh == SocketUnit("ssh.socket", (("tcp", 22),), "ssh@.service")
    rpcbind = parse_socket_unit(
        "rpcbind.socket",
        "[Socket]\nListenStream=/run/rpcbind.sock\n"
        "ListenStream=0.0.0.0:111\nListenDatagram=0.0.0.0:111\n"
        "ListenStream=[::]:111\nListenDatagram=[::]:111\n",
    )
    assert rpcbind.listens == (("tcp", 111), ("udp", 111), ("tcp", 111), ("udp", 111))
    assert rpcbind.service == "rpcbind.service"
    named = parse_socket_unit("cups.socket", "[Socket]\nListenStream=%t/cups.sock\nService=cups-x.service\n")
    assert named.listens == () and named.service == "cups-x.service"
    ignored = parse_socket_unit("x.socket", "[Install]\nListenStream=99\n")  # not the [Socket] section
    assert ignored.listens == ()
    assert matching([ssh, rpcbind], "udp", 111) is rpcbind
    assert matching([ssh, rpcbind], "udp", 22) is None


def test_dpkg_md5sums_lines() -> None:
    text = (
        "1d183eea1b6e00d012acf4045eb34395  usr/sbin/nginx\n"
        "6a6760e3a92f2973c3e53c1278453d11  usr/share/doc/nginx/changelog.Debian.gz\nbroken line\n"
    )
    assert parse_md5sums(text) == {
        "/usr/sbin/nginx": "1d183eea1b6e00d012acf4045eb34395",
        "/usr/share/doc/nginx/changelog.Debian.gz": "6a6760e3a92f2973c3e53c1278453d11",
    }


def test_merged_usr_spellings() -> None:
    assert path_spellings("/usr/sbin/rpcbind") == ("/usr/sbin/rpcbind", "/sbin/rpcbind")
    assert path_spellings("/bin/busybox") == ("/bin/busybox", "/usr/bin/busybox")
    assert path_spellings("/opt/app/bin/x") == ("/opt/app/bin/x",)


def test_rpm_verify_output() -> None:
    output = "S.5....T.  c /etc/ssh/sshd_config\n..5......    /usr/sbin/sshd\nmissing     /usr/bin/x\n"
    assert rpm_verify_digest(output, "/usr/sbin/sshd") is False
    assert rpm_verify_digest(".M.......    /usr/sbin/sshd\n", "/usr/sbin/sshd") is True  # mode only
    assert rpm_verify_digest(output, "/usr/bin/x") is None
    assert rpm_verify_digest("", "/usr/sbin/sshd") is True  # rpm lists only what differs


def test_explanation_names_missing_ptrace_hidepid_and_a_pid_namespace(tmp_path: Path) -> None:
    """A /proc as an unprivileged process inside a PID namespace with hidepid sees it (files in a temp dir)."""
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "status").write_text("Name:\tportwatch\nNSpid:\t4242\t7\nCapEff:\t0000000000000000\n")
    (proc / "self" / "mountinfo").write_text("22 27 0:21 / /proc rw,nosuid - proc proc rw,hidepid=invisible\n")
    (proc / "1" / "fd").mkdir(parents=True)  # pid 1's fds: readable here (an empty table)
    explainer = UnownedExplainer(
        proc=str(proc),
        systemd_run=tmp_path / "none",
        unit_dirs=(),
        nfs_root=str(proc),
        sys_class_net=str(tmp_path / "net"),
    )
    assert explainer.explain("tcp", "0.0.0.0", 9) == (
        "this process lacks CAP_SYS_PTRACE, needed to read other users' fds; /proc is mounted with "
        "hidepid=invisible: other users' processes are invisible; portwatch runs inside a PID namespace: "
        "processes outside it cannot be seen"
    )


def test_lockd_and_nfsd_ports_are_kernel_sockets(tmp_path: Path) -> None:
    (tmp_path / "fs" / "nfsd").mkdir(parents=True)
    (tmp_path / "fs" / "nfsd" / "portlist").write_text("tcp 2049\n")
    (tmp_path / "sys" / "fs" / "nfs").mkdir(parents=True)
    (tmp_path / "sys" / "fs" / "nfs" / "nlm_udpport").write_text("32768\n")
    (tmp_path / "sys" / "fs" / "nfs" / "nlm_tcpport").write_text("0\n")
    explainer = UnownedExplainer(
        proc=str(tmp_path),
        systemd_run=tmp_path / "none",
        unit_dirs=(),
        nfs_root=str(tmp_path),
        sys_class_net=str(tmp_path / "net"),
    )
    assert explainer.explain("tcp", "0.0.0.0", 2049) == (
        "a kernel socket: the kernel NFS server (nfsd) listens on tcp port 2049"
    )
    assert explainer.explain("udp", "0.0.0.0", 32768) == (
        "a kernel socket: the kernel NFS lock manager (lockd) listens on udp port 32768"
    )
    assert not (explainer.explain("tcp", "0.0.0.0", 32768) or "").startswith("a kernel socket")
