"""The test "lab" the namespace tests share: a "host" network namespace where berthd runs (so
nothing touches this machine's interfaces or firewall) joined by a veth to an "outside"
namespace that stands for another machine, berthd started and restarted inside the host, and
small helpers to run commands in namespaces and read links and berth's nftables elements.
"""
import json
import os
import subprocess
import time

import harness

HOST_IP, OUT_IP = "198.18.0.1", "198.18.0.2"


def sh(argv, timeout=20, check_rc=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s -> %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


def in_ns(ns, *argv):
    return ["ip", "netns", "exec", ns] + list(argv)


def net_of(ns, *argv):
    # Only the network namespace: `ip netns exec` would also give the process a private mount
    # namespace, hiding the /run/netns mounts berthd makes from everyone else.
    return ["nsenter", "--net=/run/netns/" + ns] + list(argv)


def wait_for(fn, timeout=10.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def links(ns):
    r = sh(["ip", "-n", ns, "-j", "link", "show"], check_rc=False)
    return [l["ifname"] for l in json.loads(r.stdout or "[]")]


def nft_elements(ns, table="berth"):
    """{set or map name: [elements]} of berth's table in `ns`, or None without the table."""
    r = sh(in_ns(ns, "nft", "-j", "list", "table", "inet", table), check_rc=False)
    if r.returncode != 0:
        return None
    out = {}
    for item in json.loads(r.stdout)["nftables"]:
        for kind in ("set", "map"):
            if kind in item:
                out[item[kind]["name"]] = item[kind].get("elem", [])
    return out


def netns_names():
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


class Lab:
    """Namespaces TAG-host and TAG-out, and berthd in the host with container networks on."""

    def __init__(self, tag, berthd, workdir, berth=None, default_subnet="10.199.0.0/24", admin_token=None):
        self.tag = tag
        self.berth = berth
        self.host, self.out = tag + "-host", tag + "-out"
        self.berthd = berthd
        self.dir = workdir
        self.state = os.path.join(workdir, "state")
        self.sock = os.path.join(workdir, "api.sock")
        self.cfg = os.path.join(workdir, "berthd.yaml")
        self.admin_token = admin_token
        self.proc = None
        with open(self.cfg, "w") as f:
            f.write("dns:\n  forward: []\nnetworks:\n  enabled: true\n  default_subnet: %s\n" % default_subnet)

    def create(self):
        for ns in (self.host, self.out):
            sh(["ip", "netns", "add", ns])
        sh(["ip", "link", "add", "name", "up0", "netns", self.host, "type", "veth", "peer", "name", "up0", "netns", self.out])
        for ns, ip in ((self.host, HOST_IP), (self.out, OUT_IP)):
            sh(["ip", "-n", ns, "addr", "add", ip + "/24", "dev", "up0"])
            sh(["ip", "-n", ns, "link", "set", "up0", "up"])
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])

    def start_berthd(self):
        argv = net_of(self.host, self.berthd, "--config", self.cfg, "--dns-listen", "127.0.0.1:5353",
                      "--state-dir", self.state, "--api-socket", self.sock, "--api-listen", "", "--log-format", "text")
        if self.admin_token:
            token_file = os.path.join(self.dir, "admin.token")
            with open(token_file, "w") as f:
                f.write(self.admin_token + "\n")
            argv[argv.index("--config"):argv.index("--config")] = ["--admin-token-file", token_file]
        self.proc = harness.Proc("berthd", argv, os.path.join(self.dir, "berthd-%d.log" % time.monotonic_ns()))
        ok = wait_for(lambda: not self.proc.alive() or (os.path.exists(self.sock) and self.ready()), timeout=20)
        if not ok or not self.proc.alive():
            raise RuntimeError("berthd did not become ready:\n" + self.proc.log_tail())

    def ready(self):
        try:
            return harness.http_unix(self.sock, "GET", "/readyz", timeout=1)[0] == 200
        except OSError:
            return False

    def cli(self, *args, timeout=30):
        """(rc, stdout, stderr) of the berth CLI run in the host namespace against berthd."""
        r = sh(net_of(self.host, self.berth, "--api", self.sock) + list(args), timeout=timeout, check_rc=False)
        return r.returncode, r.stdout, r.stderr

    def stop_berthd(self):
        if self.proc:
            self.proc.stop()

    def destroy(self, extra_prefixes=()):
        """Stops berthd and removes every namespace of the lab (and those with `extra_prefixes`)."""
        try:
            self.stop_berthd()
        finally:
            harness.remove_namespaces([self.tag] + list(extra_prefixes))
