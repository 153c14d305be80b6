"""Real Podman 4.3 containers on berth networks through the berth-cni plugin.

berthd runs inside a test "host" network namespace, with an "outside" namespace wired to it as
another machine (as in test_networks.py); a private, throwaway Podman (podman_env.py: own
storage, tmp dir, containers.conf with the CNI backend and a plugin dir holding berth-cni) runs
there too, so bridges, veths and nftables only ever exist in the test namespaces. Two conflists
name two berth networks (web 10.89.1.0/24, other 10.89.2.0/24) that berthd creates on first use.

Checks: containers get addresses and berth's DNS (resolv.conf), reach each other by name on one
network and not across networks; published ports (-p H:C, -p 127.0.0.1:H:C, -p C with the host
port Podman picks) answer from the host (its address and 127.0.0.1), from the outside and by
hairpin; `berth network inspect` and `berth ps` agree with `podman inspect`; --ip, --mac-address
and --network-alias (and the short id Podman adds as an alias) reach the container, a taken or
foreign --ip is refused; podman stop/start detaches and re-attaches; with berthd stopped a
`podman run` fails naming berthd's socket and works again after a restart; removing the
containers removes their names, veths, nftables elements, namespaces and Podman's own leftovers.
"""
import argparse
import ipaddress
import json
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import podman_env  # noqa: E402
from harness import check, log  # noqa: E402
from lab import HOST_IP, OUT_IP, Lab, links, net_of, nft_elements, sh, wait_for  # noqa: E402

TAG = "bp%05d" % (os.getpid() % 100000)
HOST, OUT = TAG + "-host", TAG + "-out"
IMAGE = podman_env.IMAGE
NETS = {"web": "10.89.1.0/24", "other": "10.89.2.0/24"}
GW = {"web": "10.89.1.1", "other": "10.89.2.1"}
STATIC_IP, STATIC_MAC = "10.89.1.50", "02:42:0a:59:01:32"
PUBLISHED, LOCAL_ONLY = 18080, 18082


class Env:
    pass


E = Env()


def berth(*args, timeout=30):
    return E.lab.cli(*args, timeout=timeout)


def pod(*args, timeout=60):
    return E.pm.run(*args, timeout=timeout)


def pexec(name, *cmd, timeout=30):
    return pod("exec", name, *cmd, timeout=timeout)


def http_from_ns(ns, url, timeout=3):
    """Body of GET url from a test namespace, or None."""
    code = ("import sys, urllib.request\n"
            "try:\n"
            "    sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).read().decode())\n"
            "except Exception as e:\n"
            "    sys.exit(str(e))\n")
    r = sh(net_of(ns, "/usr/bin/python3", "-c", code, url, str(timeout)), timeout=timeout + 10, check_rc=False)
    return r.stdout if r.returncode == 0 else None


def wget_in(container, url, timeout=3):
    """(rc, body, errors) of GET url inside a container. Not `wget -T`: Debian 12's busybox
    1.35 wget segfaults with -T, so busybox's timeout applet bounds it instead."""
    rc, out, err = pexec(container, "timeout", str(timeout), "wget", "-q", "-O", "-", url, timeout=timeout + 20)
    return rc, out, err


def dig_from_host(server, name):
    """(status, [A answers]) of `dig @server name` from the host namespace."""
    r = sh(net_of(HOST, "dig", "+tries=1", "+time=2", "@" + server, name, "A"), timeout=15, check_rc=False)
    status = re.search(r"status: (\w+)", r.stdout)
    answers = re.findall(r"^\S+\s+\d+\s+IN\s+A\s+(\S+)$", r.stdout, re.M)
    return (status.group(1) if status else "no answer"), sorted(answers)


def nslookup(container, name, server):
    """Addresses `nslookup name server` prints inside a container (busybox's own resolver, so
    only berth's server is asked, not the host's servers Podman appends to resolv.conf)."""
    rc, out, err = pexec(container, "nslookup", "-timeout=2", name, server, timeout=20)
    addrs = re.findall(r"^Address:\s*(\d+\.\d+\.\d+\.\d+)$", out, re.M)
    return rc, [a for a in addrs if a != server], out + err


def ping(container, target):
    rc, out, err = pexec(container, "ping", "-c1", "-W2", target, timeout=20)
    return rc == 0, out + err


def start_berthd():
    E.lab.start_berthd()
    E.proc = E.lab.proc


def setup(args):
    E.berthd, E.berth = os.path.abspath(args.berthd), os.path.abspath(args.berth)
    E.dir = harness.tmpdir("berth-cni-podman-")
    E.lab = Lab(TAG, E.berthd, E.dir, berth=E.berth, admin_token=harness.ADMIN_TOKEN)
    E.sock = E.lab.sock
    E.lab.create()
    start_berthd()
    E.pm = podman_env.Podman(os.path.join(E.dir, "podman"), HOST,
                             cni_plugins={"berth-cni": os.path.abspath(args.cni_plugin)}, log=log)
    t = time.monotonic()
    driver = E.pm.setup(("cni",))
    log("podman: %s storage, image %s imported in %.1fs" % (driver, IMAGE, time.monotonic() - t))
    for name, subnet in NETS.items():
        conf = {"cniVersion": "1.0.0", "name": name,
                "plugins": [{"type": "berth-cni", "socket": E.sock, "ipam": {"subnet": subnet},
                             "capabilities": {"portMappings": True, "ips": True, "mac": True, "aliases": True}}]}
        with open(os.path.join(E.pm.dir, "net.d", name + ".conflist"), "w") as f:
            json.dump(conf, f)


def teardown():
    try:
        if getattr(E, "pm", None):
            # Podman's DEL goes through the plugin to berthd: have one running for it.
            if getattr(E, "proc", None) and not E.proc.alive():
                try:
                    start_berthd()
                except Exception as e:  # noqa: BLE001
                    log("restart for clean-up failed: %r" % e)
            E.pm.cleanup()
    finally:
        if getattr(E, "lab", None):
            E.lab.destroy()
        else:
            harness.remove_namespaces([TAG])


def run_container(name, net, *extra, cmd=("sleep", "600")):
    rc, out, err = pod("run", "-d", "--name", name, "--network", net, *extra, IMAGE, *cmd)
    E.pm.remember(name)
    return rc, (out + err).strip()


def ip_of(name, net):
    n = E.pm.networks_of(name).get(net) or {}
    return n.get("IPAddress") or None


def berth_containers(net):
    """{name: address} of `berth network inspect NET`'s Containers map."""
    rc, out, err = berth("network", "inspect", net)
    if rc != 0:
        return None
    info = json.loads(out)
    info = info[0] if isinstance(info, list) and info else info
    return {c.get("Name"): (c.get("IPv4Address") or "").split("/")[0]
            for c in ((info or {}).get("Containers") or {}).values()}


def scenario():
    log("== containers on two berth networks")
    for name, net in (("c1", "web"), ("c2", "web"), ("c3", "other")):
        rc, msg = run_container(name, net)
        check(rc == 0, "podman run -d %s --network %s" % (name, net), msg)
    c1, c2, c3 = ip_of("c1", "web"), ip_of("c2", "web"), ip_of("c3", "other")
    log("  podman inspect: c1 %s, c2 %s, c3 %s" % (c1, c2, c3))
    in_net = lambda ip, net: bool(ip) and ipaddress.ip_address(ip) in ipaddress.ip_network(NETS[net])  # noqa: E731
    check(in_net(c1, "web") and in_net(c2, "web") and c1 != c2, "c1 and c2 have addresses in web's subnet",
          "%s %s" % (c1, c2))
    check(in_net(c3, "other"), "c3 has an address in other's subnet", str(c3))
    rc, out, _ = berth("network", "ls")
    check(rc == 0 and "web" in out and "other" in out and NETS["web"] in out and NETS["other"] in out,
          "berthd created web and other from the conflists' ipam.subnet", out)
    rc, out, _ = pexec("c1", "cat", "/etc/resolv.conf")
    servers = re.findall(r"^nameserver\s+(\S+)", out, re.M)
    log("  c1 /etc/resolv.conf: " + " | ".join(out.strip().splitlines()))
    check(servers[:1] == [GW["web"]], "Podman wrote the network's gateway as c1's first nameserver", out)
    rc, out, _ = pexec("c1", "ip", "-o", "-4", "addr", "show", "eth0")
    check(rc == 0 and (str(c1) + "/24") in out, "c1's eth0 carries the address podman inspect shows", out)

    log("== names and isolation")
    ok, out = ping("c1", "c2")
    check(ok and "(%s)" % c2 in out, "c1 pings c2 by name", out)
    ok, out = ping("c2", "c1")
    check(ok and "(%s)" % c1 in out, "c2 pings c1 by name", out)
    rc, addrs, out = nslookup("c1", "c2", GW["web"])
    check(rc == 0 and addrs == [c2], "nslookup c2 at web's gateway gives c2's address", out)
    ok, out = ping("c1", str(c2))
    check(ok, "c1 pings c2's address", out)
    ok, out = ping("c3", str(c1))
    check(not ok, "c3 (other) cannot ping c1 (web) by address", out)
    ok, out = ping("c3", str(c2))
    check(not ok, "c3 (other) cannot ping c2 (web) by address", out)
    rc, addrs, out = nslookup("c3", "c1", GW["other"])
    check(c1 not in addrs, "c3 cannot resolve c1 (a name on web only) at other's gateway", out)
    check("NXDOMAIN" in out, "  ... and gets NXDOMAIN", out)
    ok, out = ping("c1", OUT_IP)
    check(ok, "c1 reaches the outside machine (egress through the host)", out)

    log("== a published port")
    # -p 8080 (no host port): Podman picks the host port itself and hands the plugin a fixed one
    rc, msg = run_container("web1", "web", "-p", "%d:8080" % PUBLISHED, "-p", "127.0.0.1:%d:8080" % LOCAL_ONLY,
                            "-p", "8080", cmd=("httpd", "-f", "-p", "8080", "-h", "/www"))
    check(rc == 0, "podman run -d web1 -p %d:8080 -p 127.0.0.1:%d:8080 -p 8080 (busybox httpd)"
          % (PUBLISHED, LOCAL_ONLY), msg)
    web1 = ip_of("web1", "web")
    up = wait_for(lambda: wget_in("web1", "http://127.0.0.1:8080/", timeout=2)[0] == 0, timeout=10)
    check(up, "httpd answers inside web1")
    body = "hello from berth\n"
    got = http_from_ns(OUT, "http://%s:%d/" % (HOST_IP, PUBLISHED))
    check(got == body, "outside -> host %s:%d reaches web1" % (HOST_IP, PUBLISHED), str(got))
    got = http_from_ns(HOST, "http://%s:%d/" % (HOST_IP, PUBLISHED))
    check(got == body, "host -> its own address %s:%d reaches web1" % (HOST_IP, PUBLISHED), str(got))
    # berth DNATs 127.0.0.1 too (route_localnet on the host side; test_networks.py checks it
    # for `berth run`), so a Podman publish answers there like Docker's docker-proxy does.
    got = http_from_ns(HOST, "http://127.0.0.1:%d/" % PUBLISHED)
    check(got == body, "host -> 127.0.0.1:%d reaches web1" % PUBLISHED, str(got))
    got = http_from_ns(HOST, "http://127.0.0.1:%d/" % LOCAL_ONLY)
    check(got == body, "host -> 127.0.0.1:%d (a 127.0.0.1-only publish) reaches web1" % LOCAL_ONLY, str(got))
    got = http_from_ns(OUT, "http://%s:%d/" % (HOST_IP, LOCAL_ONLY), timeout=1)
    check(got is None, "the 127.0.0.1-only publish is closed to the outside", str(got))
    rc, out, _ = pod("port", "web1")
    ports = sorted(int(p) for p in re.findall(r"^8080/tcp -> 0\.0\.0\.0:(\d+)$", out, re.M))
    random_port = [p for p in ports if p != PUBLISHED]
    check(rc == 0 and len(random_port) == 1, "podman port shows the host port Podman picked for -p 8080", out)
    got = http_from_ns(OUT, "http://%s:%d/" % (HOST_IP, random_port[0])) if random_port else None
    check(got == body, "outside -> the port Podman picked reaches web1", str(got))
    rc, out, err = wget_in("c1", "http://%s:%d/" % (HOST_IP, PUBLISHED))
    check(rc == 0 and out == body, "c1 -> the host's published port reaches web1 (hairpin)", out + err)
    rc, out, err = wget_in("c1", "http://web1:8080/")
    check(rc == 0 and out == body, "c1 -> web1:8080 by name", out + err)
    elements = json.dumps(nft_elements(HOST) or {})
    check(str(PUBLISHED) in elements and str(web1) in elements,
          "the published port and web1's address are in berth's nftables elements", elements[:400])

    log("== berth's view matches Podman's")
    got = berth_containers("web")
    want = {"c1": c1, "c2": c2, "web1": web1}
    check(got is not None and {k: got.get(k) for k in want} == want,
          "berth network inspect web lists c1, c2, web1 with podman's addresses", "%s vs %s" % (got, want))
    check(got is not None and "c3" not in got, "c3 is not on web in berth's view", str(got))
    got = berth_containers("other")
    check(got is not None and got.get("c3") == c3, "berth network inspect other lists c3", str(got))
    rc, out, _ = berth("--json", "ps")
    names = sorted(e.get("name") for e in json.loads(out or "[]")) if rc == 0 else []
    check({"c1", "c2", "c3", "web1"} <= set(names), "berth ps lists the Podman containers as endpoints", str(names))
    def vb_links():
        return [l for l in links(HOST) if l.startswith("vb-")]
    check(wait_for(lambda: len(vb_links()) == 4, timeout=3), "one vb-* veth per container in the host namespace", str(vb_links()))

    log("== --ip, --mac-address, --network-alias")
    rc, msg = run_container("s1", "web", "--ip", STATIC_IP, "--mac-address", STATIC_MAC, "--network-alias", "db")
    if rc != 0 and ("static ip" in msg or "not in any subnet" in msg):
        log("SKIP static address checks: Podman refused --ip for a berth-cni network: " + msg)
    else:
        check(rc == 0, "podman run s1 --ip %s --mac-address %s --network-alias db" % (STATIC_IP, STATIC_MAC), msg)
        rc, out, _ = pexec("s1", "ip", "addr", "show", "eth0")
        check(rc == 0 and (STATIC_IP + "/24") in out, "--ip %s reaches the container's eth0 "
              "(Podman sends one --ip only as CNI_ARGS IP=)" % STATIC_IP, out)
        check(rc == 0 and ("link/ether " + STATIC_MAC) in out, "--mac-address %s reaches the container's eth0 "
              "(Podman sends it only as CNI_ARGS MAC=)" % STATIC_MAC, out)
        n = E.pm.networks_of("s1").get("web") or {}
        check(n.get("IPAddress") == STATIC_IP and n.get("MacAddress") == STATIC_MAC,
              "podman inspect s1 shows the static address and MAC", json.dumps(n))
        rc, addrs, out = nslookup("c1", "db", GW["web"])
        check(addrs == [STATIC_IP], "c1 resolves s1's --network-alias db", out)
        short = (E.pm.inspect("s1") or {}).get("Id", "")[:12]
        rc, addrs, out = nslookup("c1", short, GW["web"])
        check(addrs == [STATIC_IP], "c1 resolves s1's short id (Podman passes it as an alias)", out)
        rc, msg = run_container("s2", "web", "--ip", STATIC_IP)
        check(rc != 0, "a second container asking for %s is refused" % STATIC_IP, msg)
        log("  podman's error: " + (msg.splitlines()[-1] if msg else "(none)"))
        pod("rm", "-f", "-i", "-t", "0", "s2", timeout=60)
        rc, msg = run_container("s3", "web", "--ip", "10.89.2.77")
        check(rc != 0, "--ip outside the network's subnet is refused (Podman cannot check it for berth-cni)", msg)
        log("  podman's error: " + (msg.splitlines()[-1] if msg else "(none)"))
        pod("rm", "-f", "-i", "-t", "0", "s3", timeout=60)

    log("== podman stop and start")
    rc, _, err = pod("stop", "-t", "0", "c3")
    check(rc == 0, "podman stop c3", err)
    rc, out, _ = berth("--json", "ps")
    names = [e.get("name") for e in json.loads(out or "[]")] if rc == 0 else None
    check(names is not None and "c3" not in names, "a stopped container is no longer a berth endpoint (DEL)",
          str(names))
    rc, _, err = pod("start", "c3")
    E.pm.remember("c3")
    c3 = ip_of("c3", "other")
    check(rc == 0 and in_net(c3, "other"), "podman start c3 attaches it again", "%s %s" % (err, c3))
    rc, addrs, out = nslookup("c3", "c3", GW["other"])
    check(addrs == [c3], "c3's name points at its (new) address", out)

    log("== berthd stopped, then started again")
    E.proc.signal(signal.SIGTERM)
    check(E.proc.wait(15) is not None, "berthd exits on SIGTERM")
    ok, out = ping("c1", str(c2))
    log("  (info) with berthd stopped, c1 -> c2 by address: %s" % ("works" if ok else "fails"))
    ns_before = podman_env.netns_names()
    rc, out, err = pod("run", "--rm", "--name", "down1", "--network", "web", IMAGE, "true")
    msg = (out + err).strip()
    log("  podman's error: " + (msg.splitlines()[-1] if msg else "(none)"))
    tail = msg.split("failed (add):", 1)[-1]
    check(rc != 0 and (E.sock in tail or "berthd" in tail),
          "podman run on web fails while berthd is down, naming berthd or its socket", msg)
    rc2, out2, _ = pod("ps", "-a", "--filter", "name=^down1$", "--format", "{{.Names}}")
    new_ns = sorted(n for n in podman_env.netns_names() - ns_before if n.startswith("netns-"))
    check(rc2 == 0 and not out2.strip() and not new_ns, "the failed run leaves no container and no netns",
          "%s %s" % (out2, new_ns))
    start_berthd()
    rc, out, err = pod("run", "--rm", "--name", "up1", "--network", "web", IMAGE, "ping", "-c1", "-W2", GW["web"])
    check(rc == 0, "podman run on web works again after berthd restarts", out + err)
    ok, out = ping("c1", "c2")
    check(ok, "c1 still pings c2 by name after the restart", out)
    got = http_from_ns(OUT, "http://%s:%d/" % (HOST_IP, PUBLISHED))
    check(got == "hello from berth\n", "the published port still works after the restart", str(got))

    log("== podman rm leaves nothing")
    rc, _, err = pod("rm", "-f", "-t", "0", "c2")
    check(rc == 0, "podman rm -f c2", err)
    rc, addrs, out = nslookup("c1", "c2", GW["web"])
    check(c2 not in addrs and "NXDOMAIN" in out, "c2's name is gone (NXDOMAIN at web's gateway)", out)
    everyone = ["c1", "c3", "web1", "s1"]
    rc, _, err = pod("rm", "-f", "-i", "-t", "0", *everyone, timeout=120)
    check(rc == 0, "podman rm -f " + " ".join(everyone), err)
    vb = wait_for(lambda: not [l for l in links(HOST) if l.startswith("vb-")], timeout=3)
    check(vb, "no vb-* veth left in the host namespace", str([l for l in links(HOST) if l.startswith("vb-")]))
    elements = nft_elements(HOST) or {}
    text = json.dumps(elements)
    gone = [a for a in (c1, c2, c3, web1, STATIC_IP) if a and '"%s"' % a in text]
    check(not gone and str(PUBLISHED) not in text, "no container address or published port left in nftables",
          "%s %s" % (gone, text[:400]))
    check(http_from_ns(OUT, "http://%s:%d/" % (HOST_IP, PUBLISHED), timeout=1) is None,
          "the published port is closed")
    for name in ("c1", "web1", "db"):
        status, answers = dig_from_host(GW["web"], name)
        check(not answers, "berth's DNS at %s no longer answers %s (%s)" % (GW["web"], name, status), str(answers))
    for net in NETS:
        got = berth_containers(net)
        check(got == {}, "berth network inspect %s shows no containers" % net, str(got))
    rc, out, _ = berth("--json", "ps")
    check(rc == 0 and json.loads(out or "[1]") == [], "berth ps shows no endpoints", out)
    left = E.pm.leftovers()
    check(not left, "no container netns, libcni cache file, runc state or cgroup left", str(left))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", required=True)
    ap.add_argument("--berth", required=True)
    ap.add_argument("--cni-plugin", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root for network namespaces and rootful Podman")
        return 0
    why = podman_env.available()
    if why:
        log("SKIP: " + why)
        return 0
    for path in (args.berthd, args.berth, args.cni_plugin):
        if not os.access(path, os.X_OK):
            log("FAIL: %s is not an executable" % path)
            return 1
    try:
        setup(args)
        scenario()
    finally:
        teardown()
    harness.finish()


if __name__ == "__main__":
    sys.exit(main())
