"""A tiny TCP+UDP echo-with-identity server for network tests: answers every TCP connection
and UDP datagram on PORT with "NAME PEER-ADDRESS", so the client learns who answered and what
source address the server saw (masquerade, hairpin). Runs until killed."""
import socket
import sys
import threading

name, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if len(sys.argv) > 3 and sys.argv[3] == "6" else socket.AF_INET
bind = "::" if family == socket.AF_INET6 else "0.0.0.0"


def tcp():
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.listen(64)
    while True:
        c, peer = s.accept()
        try:
            c.sendall(("%s %s\n" % (name, peer[0])).encode())
        finally:
            c.close()


def udp():
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((bind, port))
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(("%s %s\n" % (name, peer[0])).encode(), peer)


threading.Thread(target=udp, daemon=True).start()
tcp()
