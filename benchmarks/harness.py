"""What the process-level benchmarks share: server processes read through /proc, load
generator processes spread over 127.x source addresses, and a throwaway TLS certificate."""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import json
import os
import resource
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def load_runtime(name: str, folder: str) -> Any:
    """The protocol module of the runtime in ``folder`` (another checkout's ``runtime/``),
    loaded as package ``name``: the runtime uses relative imports only, so a second copy loads
    beside this one's for an A/B in one process."""
    spec = importlib.util.spec_from_file_location(name, f"{folder}/__init__.py", submodule_search_locations=[folder])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return importlib.import_module(f"{name}.protocol")


def csms_core(protocol_module: Any, version: str, routes: Any, handled: Any) -> Any:
    """An ``OcppProtocol`` of ``protocol_module`` (this runtime's or one ``load_runtime`` gave)
    on the CSMS side of ``version``."""
    role = sys.modules[protocol_module.__name__.rsplit(".", 1)[0] + ".routing"].Role
    return protocol_module.OcppProtocol(version=version, role=role.CSMS, routes=routes, handled=handled)


def publish(text: str, out: Path | None) -> int:
    """Print a harness's table and, with ``--out``, write it to that file; the exit status."""
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def fd_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


class ServerProcess:
    """One benchmark server (benchmarks/servers.py) in its own process."""

    def __init__(self, kind: str, *flags: str, python: str | None = None) -> None:
        self.kind = kind
        self.port = free_port()
        self.proc = subprocess.Popen(
            [python or sys.executable, "-m", "benchmarks.servers", kind, str(self.port), *flags],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "READY" not in line:
            raise RuntimeError(f"{kind} server did not start: {line!r}")

    def _stat(self) -> list[str]:
        return Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()

    def cpu_seconds(self) -> float:
        fields = self._stat()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def _status(self, key: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def rss_bytes(self) -> int:
        return self._status("VmRSS")

    def peak_bytes(self) -> int:
        return self._status("VmHWM")

    def reset_peak(self) -> None:
        """Start the peak resident set (VmHWM) afresh (Linux: clear_refs 5)."""
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
        except OSError:
            pass

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Loaders:
    """Load generator processes (benchmarks/loadgen.py), ``per_process`` stations each, each
    from its own 127.0.0.x source address."""

    def __init__(self, url: str, total: int, *, prefix: str = "S", per_process: int = 5000, flags: tuple[str, ...] = ()) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        first = 0
        n = 0
        while first < total:
            count = min(per_process, total - first)
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "benchmarks.loadgen", url, "--source", f"127.0.{1 + n // 250}.{2 + n % 250}",
                 "--first", str(first), "--count", str(count), "--prefix", prefix, *flags],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
            ))
            first += count
            n += 1

    def read(self) -> list[dict[str, Any]]:
        out = []
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"a load generator died (exit {p.wait()})")
            out.append(json.loads(line))
        return out

    def send(self, command: str) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(command + "\n")
            p.stdin.flush()

    def close(self) -> None:
        for p in self.procs:
            try:
                self.send("close")
                break
            except (BrokenPipeError, OSError):
                pass
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def make_certificate(folder: Path) -> tuple[str, str]:
    """A self-signed server certificate for localhost/127.0.0.1 (it is its own CA file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_path), str(key_path)
