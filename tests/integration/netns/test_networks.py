"""Container networks end to end. berthd runs inside a test "host" network namespace (so
nothing touches this machine's interfaces or firewall) with a second "outside" namespace
wired to it as the world. Through the real `berth` CLI it checks: network create/ls/inspect/rm
with clear errors that change nothing, endpoints (`berth run`, `exec`, `stop`, `connect`,
`disconnect`), the connectivity matrix (same network yes, across networks no, internal network
no way out, egress masqueraded), published ports (from outside, from the host, 127.0.0.1,
hairpin, a 127.0.0.1-only publish, -P), port conflicts, nftables restore after a flush,
kill -9 + restart, and at the end that no link, namespace or nft element is left.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, log  # noqa: E402
from lab import HOST_IP, OUT_IP, Lab, in_ns, links, net_of, netns_names, nft_elements, sh, wait_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ECHO = os.path.join(HERE, "echo_server.py")
PROBE = os.path.join(HERE, "probe.py")
TAG = "bt%05d" % (os.getpid() % 100000)
HOST, OUT, EXTRA = TAG + "-host", TAG + "-out", TAG + "-x"


class Env:
    pass


E = Env()


def berth(*args, timeout=30):
    return E.lab.cli(*args, timeout=timeout)


def probe_from_ns(ns, host, port, proto="tcp", timeout=1.5):
    r = sh(in_ns(ns, "python3", PROBE, host, str(port), proto, str(timeout)), check_rc=False, timeout=timeout + 10)
    return r.stdout.strip() if r.returncode == 0 else None


def probe_from_endpoint(name, host, port, proto="tcp", timeout=1.5):
    rc, out, _ = berth("exec", name, "--", "python3", PROBE, host, str(port), proto, str(timeout), timeout=timeout + 15)
    return out.strip() if rc == 0 else None


def start_berthd():
    E.lab.start_berthd()
    E.proc = E.lab.proc


def setup(args):
    E.netns_before = set(netns_names())
    E.berthd, E.berth = args.berthd, args.berth
    E.dir = harness.tmpdir("berth-networks-")
    E.lab = Lab(TAG, E.berthd, E.dir, berth=E.berth, admin_token=harness.ADMIN_TOKEN)
    E.state, E.sock = E.lab.state, E.lab.sock
    E.lab.create()
    harness.Proc("outside-echo", in_ns(OUT, "python3", ECHO, "outside", "7000"), os.path.join(E.dir, "outside.log"))
    harness.Proc("host-echo", in_ns(HOST, "python3", ECHO, "hostsvc", "7001"), os.path.join(E.dir, "host.log"))
    start_berthd()


def teardown():
    # Endpoint processes run in namespaces berth made: they go with the namespaces.
    made = [n for n in netns_names() if n.startswith("berth-") and n not in E.netns_before]
    if getattr(E, "lab", None):
        E.lab.destroy(made)
    else:
        harness.remove_namespaces([TAG] + made)


def run_server(name, *run_args, port=7000, v6=False):
    extra = ["6"] if v6 else []
    rc, out, err = berth("run", "-d", "--name", name, *run_args, "--", "python3", ECHO, name, str(port), *extra)
    if rc != 0:
        return False, err
    local = "::1" if v6 else "127.0.0.1"
    return bool(wait_for(lambda: probe_from_endpoint(name, local, port), timeout=10)), err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", required=True)
    ap.add_argument("--berth", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root for network namespaces")
        return 0
    try:
        setup(args)
        scenario()
    finally:
        teardown()
    harness.finish()


def ep(name):
    rc, out, _ = berth("--json", "ps")
    for e in json.loads(out or "[]"):
        if e["name"] == name:
            return e
    return None


def ip_of(name, network):
    e = ep(name)
    for n in (e or {}).get("networks", []):
        if n["network"] == network:
            return n["ip"].split("/")[0]
    return None


def scenario():
    log("== networks")
    rc, out, _ = berth("network", "ls")
    check(rc == 0 and "bridge" in out and "10.199.0.0/24" in out, "the default network exists", out)
    for name, extra in (("neta", ["--subnet", "10.201.0.0/24"]), ("netb", ["--subnet", "10.202.0.0/24"]),
                        ("netc", ["--subnet", "10.203.0.0/24", "--internal"])):
        rc, out, err = berth("network", "create", *extra, name)
        check(rc == 0 and re.fullmatch(r"[0-9a-f]{64}\n", out), "create network " + name, err)
    rc, out, _ = berth("network", "inspect", "neta")
    info = json.loads(out)[0] if rc == 0 else {}
    check(info.get("IPAM", {}).get("Config", [{}])[0].get("Gateway") == "10.201.0.1", "inspect shows the gateway", out)
    check("10.201.0.1/24" in sh(["ip", "-n", HOST, "addr"]).stdout, "the bridge carries the gateway address")

    log("== bad requests change nothing")
    before = (berth("network", "ls")[1], links(HOST))
    for argv, reason in ((["--subnet", "10.201.0.0/16", "x1"], "overlaps"),
                         (["--subnet", "10.210.0.0/24", "--gateway", "10.211.0.1", "x2"], "not inside"),
                         (["--subnet", "10.212.0.0/33", "x3"], "prefix length"),
                         (["--subnet", "10.213.0.0/24", "--ip-range", "10.214.0.0/25", "x4"], "not inside"),
                         (["--subnet", "10.215.0.0/24", "neta"], "already exists"),
                         (["-d", "macvlan", "x5"], "parent")):
        rc, out, err = berth("network", "create", *argv)
        check(rc != 0 and reason in err, "network create %s refused (%s)" % (" ".join(argv), reason), err)
    check((berth("network", "ls")[1], links(HOST)) == before, "failed creates left no network and no link")

    log("== endpoints")
    for name, net in (("a1", "neta"), ("a2", "neta"), ("b1", "netb"), ("c1", "netc")):
        extra = ["-p", "8080:7000", "-p", "8080:7000/udp"] if name == "a1" else []
        if name == "a2":
            extra = ["-p", "127.0.0.1:8081:7000", "--alias", "db", "--alias", "shared"]
        ok, err = run_server(name, "--network", net, *extra)
        check(ok, "endpoint %s runs on %s" % (name, net), err)
    a1, a2, b1, c1 = (ip_of(n, net) for n, net in (("a1", "neta"), ("a2", "neta"), ("b1", "netb"), ("c1", "netc")))
    check(a1 == "10.201.0.2" and a2 == "10.201.0.3", "addresses come from IPAM in order", "%s %s" % (a1, a2))

    log("== connectivity matrix")
    check((probe_from_endpoint("a1", a2, 7000) or "").startswith("a2 10.201.0.2"), "a1 -> a2 (same network, tcp)")
    check((probe_from_endpoint("a2", a1, 7000, "udp") or "").startswith("a1 "), "a2 -> a1 (same network, udp)")
    check(probe_from_endpoint("a1", b1, 7000, timeout=1) is None, "a1 -> b1 blocked (other network)")
    check(probe_from_endpoint("b1", a1, 7000, timeout=1) is None, "b1 -> a1 blocked (other network)")
    got = probe_from_endpoint("a1", OUT_IP, 7000) or ""
    check(got == "outside " + HOST_IP, "a1 -> outside, masqueraded to the host address", got)
    check(probe_from_endpoint("c1", OUT_IP, 7000, timeout=1) is None, "internal network has no way out")
    got = probe_from_endpoint("c1", "10.203.0.1", 7001) or ""
    check(got.startswith("hostsvc 10.203."), "internal network still reaches the host's services on its gateway", got)

    log("== names")
    def dig(endpoint, name, rdtype="A"):
        rc, out, err = berth("exec", endpoint, "--", "dig", "+tries=2", "+time=2", name, rdtype)
        status = re.search(r"status: (\w+)", out)
        if not status:
            log("  (dig %s %s from %s: rc %d\n%s%s)" % (name, rdtype, endpoint, rc, out, err))
        answers = re.findall(r"^\S+\s+\d+\s+IN\s+" + rdtype + r"\s+(\S+)$", out, re.M)
        return (status.group(1) if status else "none"), sorted(answers)
    rc, out, _ = berth("exec", "a1", "--", "cat", "/etc/resolv.conf")
    check("nameserver 10.201.0.1" in out, "resolv.conf points at the network's gateway", out)
    check(dig("a1", "a2") == ("NOERROR", [a2]), "a1 resolves a2 on its network", str(dig("a1", "a2")))
    check(dig("a1", "db") == ("NOERROR", [a2]), "a1 resolves a2's alias", str(dig("a1", "db")))
    check(dig("a1", "b1")[0] == "NXDOMAIN", "a1 gets NXDOMAIN for b1 (only on netb)", str(dig("a1", "b1")))
    check(dig("b1", "a2")[0] == "NXDOMAIN", "b1 gets NXDOMAIN for a2 (only on neta)", str(dig("b1", "a2")))
    check(dig("b1", "b1") == ("NOERROR", [b1]), "b1 resolves itself", str(dig("b1", "b1")))
    rev = ".".join(reversed(a2.split("."))) + ".in-addr.arpa"
    check(dig("a1", rev, "PTR") == ("NOERROR", ["a2."]), "PTR of a2's address", str(dig("a1", rev, "PTR")))
    ok, err = run_server("a5", "--network", "neta", "--alias", "shared", port=7002)
    a5 = ip_of("a5", "neta")
    check(dig("a1", "shared") == ("NOERROR", sorted([a2, a5])), "an alias shared by two endpoints returns both",
          str(dig("a1", "shared")))
    rc, _, err = berth("stop", "-t", "1", "a5")
    check(rc == 0 and wait_for(lambda: ep("a5") is None, timeout=15), "stop removes the endpoint", err)
    check(wait_for(lambda: dig("a1", "a5")[0] == "NXDOMAIN", timeout=15), "a name is gone when its endpoint goes",
          str(dig("a1", "a5")))

    log("== published ports")
    got = probe_from_ns(OUT, HOST_IP, 8080) or ""
    check(got.startswith("a1 "), "outside -> host:8080/tcp reaches a1", got)
    check((probe_from_ns(OUT, HOST_IP, 8080, "udp") or "").startswith("a1 "), "outside -> host:8080/udp reaches a1")
    check((probe_from_ns(HOST, "127.0.0.1", 8080) or "").startswith("a1 "), "host -> 127.0.0.1:8080 reaches a1")
    check((probe_from_ns(HOST, HOST_IP, 8080) or "").startswith("a1 "), "host -> host address:8080 reaches a1")
    check((probe_from_endpoint("a1", HOST_IP, 8080) or "").startswith("a1 "), "hairpin: a1 -> its own published port")
    check((probe_from_ns(HOST, "127.0.0.1", 8081) or "").startswith("a2 "), "127.0.0.1-only publish works on the host")
    check(probe_from_ns(OUT, HOST_IP, 8081, timeout=1) is None, "127.0.0.1-only publish is closed to other hosts")
    ok, err = run_server("a3", "--network", "neta", "-P", "--expose", "7000")
    rc, out, _ = berth("port", "a3")
    m = re.search(r"7000/tcp -> 0\.0\.0\.0:(\d+)", out)
    port = int(m.group(1)) if m else 0
    check(ok and 32768 <= port <= 60999, "-P publishes on a random port from 32768-60999", out)
    check((probe_from_ns(OUT, HOST_IP, port) or "").startswith("a3 "), "-P port reachable from outside")

    log("== dual stack")
    rc, _, err = berth("network", "create", "--ipv6", "--subnet", "10.204.0.0/24", "--subnet", "fd00:204::/64", "netd")
    check(rc == 0, "create a dual-stack network", err)
    for name in ("d1", "d2"):
        ok, err = run_server(name, "--network", "netd", port=7003, v6=True)
        check(ok, "endpoint %s runs on netd" % name, err)
    d2v6 = None
    for n in (ep("d2") or {}).get("networks", []):
        d2v6 = n.get("ip6", "").split("/")[0] or None
    check(d2v6 is not None and d2v6.startswith("fd00:204::"), "d2 has an IPv6 address from the /64", str(d2v6))
    got = probe_from_endpoint("d1", d2v6 or "::1", 7003) if d2v6 else ""
    check((got or "").startswith("d2 fd00:204::"), "d1 -> d2 over IPv6", str(got))
    check(dig("d1", "d2", "AAAA") == ("NOERROR", [d2v6]), "AAAA of d2 on netd", str(dig("d1", "d2", "AAAA")))

    log("== icc off")
    rc, _, err = berth("network", "create", "--subnet", "10.205.0.0/24", "-o", "icc=false", "neti")
    check(rc == 0, "create a network with icc=false", err)
    for name in ("i1", "i2"):
        ok, err = run_server(name, "--network", "neti", port=7005)
        check(ok, "endpoint %s runs on neti" % name, err)
    check(probe_from_endpoint("i1", ip_of("i2", "neti"), 7005, timeout=1) is None, "icc=false: i1 cannot reach i2")
    # Without br_netfilter nftables never sees bridged traffic: port isolation must hold alone.
    sh(in_ns(HOST, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0"))
    check(probe_from_endpoint("i1", ip_of("i2", "neti"), 7005, timeout=1) is None,
          "icc=false holds without br_netfilter (bridge port isolation)")
    sh(in_ns(HOST, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"))
    got = probe_from_endpoint("i1", "10.205.0.1", 7001) or ""
    check(got.startswith("hostsvc "), "icc=false: the host's services on the gateway stay reachable", got)

    log("== macvlan")
    rc, _, err = berth("network", "create", "-d", "macvlan", "-o", "parent=up0", "--subnet", "198.18.0.0/24",
                       "--gateway", HOST_IP, "--ip-range", "198.18.0.128/25", "mv")
    check(rc == 0, "create a macvlan network on the uplink", err)
    ok, err = run_server("m1", "--network", "mv", port=7004)
    m1 = ip_of("m1", "mv")
    check(ok and m1 == "198.18.0.128", "macvlan endpoint gets an address from the ip-range", str(m1))
    got = probe_from_endpoint("m1", OUT_IP, 7000) or ""
    check(got == "outside " + str(m1), "macvlan endpoint reaches the outside host directly (no NAT)", got)
    got = probe_from_ns(OUT, str(m1), 7004) or ""
    check(got.startswith("m1 " + OUT_IP), "the outside host reaches the macvlan endpoint", got)
    rc, _, err = berth("stop", "-t", "1", "m1")
    check(rc == 0 and wait_for(lambda: ep("m1") is None, timeout=10), "stop the macvlan endpoint", err)

    log("== conflicts and errors")
    before = (links(HOST), berth("ps")[1])
    rc, _, err = berth("run", "--name", "dup", "--network", "neta", "-p", "8080:7000", "--", "true")
    check(rc != 0 and "8080" in err and "already published" in err, "host port conflict refused", err)
    rc, _, err = berth("run", "--name", "a1", "--network", "neta", "--", "true")
    check(rc != 0 and "already exists" in err, "endpoint name in use refused", err)
    rc, _, err = berth("run", "--name", "ipx", "--network", "neta", "--ip", "10.201.0.2", "--", "true")
    check(rc != 0 and "in use" in err, "static address in use refused", err)
    rc, _, err = berth("run", "--name", "nonet", "--network", "nosuch", "--", "true")
    check(rc != 0 and "does not exist" in err, "unknown network refused", err)
    rc, _, err = berth("run", "--name", "badp", "--network", "neta", "-p", "0:80", "--", "true")
    check(rc != 0 and "between 1 and 65535" in err, "bad port refused", err)
    rc, _, err = berth("run", "--name", "busy", "--network", "neta", "-p", "7001:7000", "--", "true")
    check(rc != 0 and "in use by a program on this host" in err, "a port a host program listens on is refused", err)
    rc, _, err = berth("network", "rm", "neta")
    check(rc != 0 and "endpoints attached" in err, "removing a network with endpoints refused", err)
    check((links(HOST), berth("ps")[1]) == before, "refused requests left no link and no endpoint")
    rc, out, _ = berth("run", "--name", "exit7", "--network", "neta", "--", "sh", "-c", "exit 7")
    check(rc == 7, "berth run exits with the command's status", str(rc))
    check(ep("exit7") is None, "the endpoint of a finished run is gone")

    log("== network modes")
    rc, out, _ = berth("run", "--network", "none", "--name", "nonet2", "--", "ip", "-o", "link")
    check(rc == 0 and re.findall(r"^\d+: ([^:@]+)", out, re.M) == ["lo"], "--network none: only loopback", out)
    rc, out, _ = berth("run", "--network", "container:a2", "--", "ip", "-o", "-4", "addr")
    check(rc == 0 and (a2 + "/24") in out, "--network container:a2 runs in a2's namespace", out)
    rc, out, _ = berth("run", "--network", "host", "--", "ip", "-o", "-4", "addr")
    check(rc == 0 and HOST_IP in out, "--network host runs in berthd's own namespace", out)

    log("== connect and disconnect")
    sh(["ip", "netns", "add", EXTRA])
    rc, out, err = berth("network", "connect", "netb", EXTRA, "--ip", "10.202.0.50")
    check(rc == 0, "connect a named netns", err)
    got = probe_from_ns(EXTRA, b1, 7000) or ""
    check(got.startswith("b1 10.202.0.50"), "the connected namespace reaches b1 with its static address", got)
    rc, _, err = berth("network", "disconnect", "netb", EXTRA)
    check(rc == 0 and ep(EXTRA) is None and "eth0" not in links(EXTRA), "disconnect removes the interface", err)
    # A namespace deleted without a disconnect: its veth dies with it, berth notices and lets go
    # of the address, the name and the published port.
    gone_ns = TAG + "-gone"
    sh(["ip", "netns", "add", gone_ns])
    rc, _, err = berth("network", "connect", "netb", gone_ns, "--ip", "10.202.0.60", "--alias", "ghost")
    check(rc == 0, "connect another named netns", err)
    sh(["ip", "netns", "del", gone_ns])
    check(wait_for(lambda: ep(gone_ns) is None, timeout=5), "an endpoint whose namespace was deleted goes by itself")
    got = wait_for(lambda: "NXDOMAIN" in sh(in_ns(HOST, "dig", "+time=1", "+tries=1", "@10.202.0.1", "ghost"),
                                            check_rc=False).stdout, timeout=5)
    check(got, "its name is gone")
    sh(["ip", "netns", "add", gone_ns])
    rc, _, err = berth("network", "connect", "netb", gone_ns, "--ip", "10.202.0.60")
    check(rc == 0, "its address can be taken again at once", err)
    rc, _, err = berth("network", "disconnect", "netb", gone_ns)
    sh(["ip", "netns", "del", gone_ns])

    log("== concurrent requests")
    # IPAM and host ports are decided under one lock and checked again by the store: requests
    # racing each other never share an address or a port, and the pool runs dry exactly.
    rc, _, err = berth("network", "create", "--subnet", "10.209.0.0/27", "netp")  # 29 addresses
    check(rc == 0, "create network netp", err)
    names = ["%s-p%02d" % (TAG, i) for i in range(34)]
    for n in names:
        sh(["ip", "netns", "add", n])

    def connect_all(batch):
        procs = [subprocess.Popen(net_of(HOST, E.berth, "--api", E.sock, "network", "connect", "netp", n),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in batch]
        return [(p.wait(timeout=60), p.stderr.read()) for p in procs]

    results = connect_all(names[:24])
    check(all(rc == 0 for rc, _ in results), "24 parallel connects succeed", str([e for rc, e in results if rc]))
    results = connect_all(names[24:])
    ok_count = sum(1 for rc, _ in results if rc == 0)
    refused = [e for rc, e in results if rc != 0]
    check(ok_count == 5 and all("no free address" in e or "exhausted" in e for e in refused),
          "10 more in parallel: exactly the 5 free addresses go, the rest are refused clearly", str(refused[:2]))
    addresses = [ip_of(n, "netp") for n in names]
    given = [a for a in addresses if a]
    check(len(given) == 29 and len(set(given)) == 29 and "10.209.0.1" not in given,
          "29 distinct addresses, none the gateway", str(sorted(given)))
    port_runs = [subprocess.Popen(net_of(HOST, E.berth, "--api", E.sock, "run", "-d", "--name", "race%d" % i,
                                         "--network", "neta", "-p", "9300:7000", "--", "sleep", "60"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(6)]
    port_results = [(p.wait(timeout=60), p.stderr.read()) for p in port_runs]
    winners = [i for i, (rc, _) in enumerate(port_results) if rc == 0]
    check(len(winners) == 1 and all("already published" in e for rc, e in port_results if rc != 0),
          "6 parallel runs publishing host port 9300: one wins, five are refused", str(port_results))
    for i in winners:
        berth("stop", "-t", "0", "race%d" % i)
    procs = [subprocess.Popen(net_of(HOST, E.berth, "--api", E.sock, "network", "disconnect", "netp", n),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n, a in zip(names, addresses) if a]
    check(all(p.wait(timeout=60) == 0 for p in procs), "29 parallel disconnects")
    harness.remove_namespaces([TAG + "-p"])
    rc, _, err = berth("network", "rm", "netp")
    check(rc == 0, "netp is empty again and goes", err)

    log("== firewall restore after a flush")
    sh(in_ns(HOST, "nft", "flush", "ruleset"))
    restored = wait_for(lambda: (probe_from_ns(OUT, HOST_IP, 8080, timeout=0.5) or "").startswith("a1 "), timeout=5)
    check(restored, "published port works again after `nft flush ruleset`")

    log("== kill -9 and restart")
    E.proc.signal(signal.SIGKILL)
    E.proc.wait(5)
    check((probe_from_ns(OUT, HOST_IP, 8080) or "").startswith("a1 "), "published port works while berthd is down")
    start_berthd()
    check((probe_from_ns(OUT, HOST_IP, 8080) or "").startswith("a1 "), "published port works after restart")
    check(ip_of("a1", "neta") == a1, "endpoints survive the restart")
    rc, _, err = berth("run", "--name", "dup2", "--network", "neta", "-p", "8080:7000", "--", "true")
    check(rc != 0 and "already published" in err, "port reservations survive the restart", err)
    ok, err = run_server("a4", "--network", "neta")
    check(ok and ip_of("a4", "neta") not in (a1, a2), "IPAM state survives the restart", str(ip_of("a4", "neta")))

    log("== what died while berthd was down is cleaned up at its start")
    ok, err = run_server("z1", "--network", "netb", "-p", "9090:7000")
    z1 = ip_of("z1", "netb")
    check(ok and z1, "endpoint z1 runs", err)
    E.proc.signal(signal.SIGKILL)
    E.proc.wait(5)
    harness.remove_namespaces(["berth-z1"])  # its process and namespace die meanwhile
    # Links left behind: one with berth's veth prefix (an orphan of berth's), one not berth's.
    sh(["ip", "-n", HOST, "link", "add", "vb-0rphan00001", "type", "veth", "peer", "name", "orphanpeer"])
    sh(["ip", "-n", HOST, "link", "add", "keep0", "type", "veth", "peer", "name", "keep1"])
    start_berthd()
    check(ep("z1") is None, "an endpoint whose namespace died while berthd was down is removed")
    now = links(HOST)
    check("vb-0rphan00001" not in now, "an orphan veth with berth's prefix is deleted at start", str(now))
    check("keep0" in now and "keep1" in now, "links that are not berth's are left alone", str(now))
    sh(["ip", "-n", HOST, "link", "del", "keep0"])
    pub = json.dumps((nft_elements(HOST) or {}).get("pub4_any", []))
    check("9090" not in pub, "its published port is gone from nftables", pub)
    ok, err = run_server("z2", "--network", "netb", "--ip", str(z1))
    check(ok and ip_of("z2", "netb") == z1, "its address can be handed out again", err)

    log("== stop and clean up")
    for name in ("a1", "a2", "a3", "a4", "b1", "c1", "d1", "d2", "i1", "i2", "z2"):
        rc, _, err = berth("stop", "-t", "2", name)
        check(rc == 0, "stop " + name, err)
    check(wait_for(lambda: not json.loads(berth("--json", "ps")[1] or "[1]"), timeout=5), "no endpoints left")
    for name in ("neta", "netb", "netc", "netd", "neti", "mv"):
        rc, _, err = berth("network", "rm", name)
        check(rc == 0, "remove network " + name, err)
    # Stopped endpoints' veths are deleted in the background (down at once, then gone).
    wait_for(lambda: not [l for l in links(HOST) if l.startswith("vb-")], timeout=3)
    left = [l for l in links(HOST) if l.startswith("vb-") or (l.startswith("berth-"))]
    check(not left, "no veth or bridge left (berth0 stays for the default network)", str(left))
    elements = nft_elements(HOST) or {}
    ports_left = {k: v for k, v in elements.items() if k.startswith("pub") and v}
    check(elements and not ports_left, "no published-port element left in nftables", json.dumps(ports_left))
    others = [k for k, v in elements.items() if "berth-" in json.dumps(v)]
    check(not others, "no element of a removed network left in nftables", json.dumps(elements))
    r = sh(["ip", "netns", "list"]).stdout
    check("berth-a1" not in r and "berth-exit7" not in r, "no namespace left", r)


if __name__ == "__main__":
    sys.exit(main())
