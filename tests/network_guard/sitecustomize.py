"""Loaded by every Python process whose PYTHONPATH starts here: no network but loopback.

Each refused attempt is appended to the file named by CONVCARBON_NETWORK_LOG,
so a test can prove that nothing tried to phone home, not only that nothing
failed because of it.
"""

import ipaddress
import os
import socket

_LOG = os.environ.get("CONVCARBON_NETWORK_LOG")
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
_LOCAL_NAMES = {"localhost", "ip6-localhost", ""}


def _refuse(what: str):
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(f"{os.getpid()} {what}\n")
    raise OSError(f"network access blocked by the test: {what}")


def _is_loopback(host) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host) in _LOCAL_NAMES


def _check(sock, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        _refuse(f"connect to {address[0]}:{address[1]}")


def _guarded_connect(self, address):
    _check(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host, *arguments, **keywords):
    if host is not None and not _is_loopback(host if not isinstance(host, bytes) else host.decode()):
        _refuse(f"resolve {host}")
    return _getaddrinfo(host, *arguments, **keywords)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo
