"""Connects to HOST PORT over tcp or udp and prints the answer (exit 0), or exits 1 after a
short timeout. Used inside endpoints (berth exec) and test namespaces (ip netns exec)."""
import socket
import sys

host, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 1.5
family = socket.AF_INET6 if ":" in host else socket.AF_INET
try:
    if proto == "tcp":
        s = socket.create_connection((host, port), timeout=timeout)
        data = s.recv(256)
    else:
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        s.sendto(b"ping", (host, port))
        data, _ = s.recvfrom(256)
    sys.stdout.write(data.decode())
    sys.exit(0)
except OSError as e:
    sys.stderr.write("probe %s:%d/%s: %s\n" % (host, port, proto, e))
    sys.exit(1)
