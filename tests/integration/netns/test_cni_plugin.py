"""berth-cni driven the way containerd drives a CNI plugin: the CNI_* environment plus the
network configuration on stdin, one process per command. berthd runs inside a test "host"
namespace; each "container" is a namespace of its own. Covers every command (VERSION, STATUS,
ADD, CHECK, DEL, GC), static addresses and MACs, ports, DNS names, a second network, a chained
prevResult, and the failures: bad JSON, an unknown network, a missing netns, an address already
taken, drift for CHECK, berthd down — each with its CNI code and nothing half-done. Ends with
DEL twice, DEL after a "reboot", and no link, address, nft element or name left behind.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, log  # noqa: E402
from lab import HOST_IP, Lab, in_ns, links, net_of, nft_elements, sh, wait_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ECHO = os.path.join(HERE, "echo_server.py")
PROBE = os.path.join(HERE, "probe.py")
TAG = "bc%05d" % (os.getpid() % 100000)
HOST, OUT = TAG + "-host", TAG + "-out"


class Env:
    pass


E = Env()


def conf(name="web", version="1.1.0", ipam=True, **extra):
    c = {"cniVersion": version, "name": name, "type": "berth-cni", "socket": E.sock}
    if ipam is True:
        c["ipam"] = {"subnet": "10.90.1.0/24", "rangeStart": "10.90.1.10", "rangeEnd": "10.90.1.20"}
    elif ipam:
        c["ipam"] = ipam
    c.update(extra)
    return c


def cni(command, container="", ifname="eth0", netns=None, config=None, args="IgnoreUnknown=1", raw=None):
    """Runs the plugin in the host namespace; returns (rc, parsed stdout or None, raw stdout)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command, "CNI_PATH": "/opt/cni/bin"}
    if container:
        env["CNI_CONTAINERID"] = container
        env["CNI_IFNAME"] = ifname
        env["CNI_ARGS"] = args
    if netns:
        env["CNI_NETNS"] = netns
    stdin = raw if raw is not None else json.dumps(config if config is not None else conf())
    r = subprocess.run(net_of(HOST, E.plugin), input=stdin, capture_output=True, text=True, env=env, timeout=60)
    try:
        out = json.loads(r.stdout) if r.stdout.strip() else None
    except ValueError:
        out = None
    return r.returncode, out, r.stdout + r.stderr


def ns_path(name):
    return "/run/netns/" + TAG + "-" + name


def add_ns(name):
    sh(["ip", "netns", "add", TAG + "-" + name])
    return ns_path(name)


def cid(name):
    return ("%s%s" % (TAG, name)).ljust(64, "0")


def addrs(name, ifname="eth0"):
    r = sh(["ip", "-n", TAG + "-" + name, "-j", "addr", "show", "dev", ifname], check_rc=False)
    if r.returncode != 0:
        return None
    out = []
    for l in json.loads(r.stdout or "[]"):
        for a in l.get("addr_info", []):
            if a.get("scope") == "global":
                out.append("%s/%d" % (a["local"], a["prefixlen"]))
    return out


def mac_of(name, ifname="eth0"):
    r = sh(["ip", "-n", TAG + "-" + name, "-j", "link", "show", "dev", ifname], check_rc=False)
    return json.loads(r.stdout)[0]["address"] if r.returncode == 0 else None


def dig(from_ns, server, name):
    r = sh(in_ns(TAG + "-" + from_ns, "dig", "+time=2", "+tries=1", "+short", "@" + server, name), check_rc=False)
    return r.stdout.strip()


def berth_json(*args):
    r = sh(net_of(HOST, E.berth, "--api", E.sock, "--json") + list(args), check_rc=False)
    try:
        return json.loads(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None


def endpoint_names():
    return sorted(e["name"] for e in (berth_json("ps") or []))


def network_names():
    return sorted(n["Name"] for n in (berth_json("network", "ls") or []))


def vb_links():
    return sorted(l for l in links(HOST) if l.startswith("vb-"))


def start_berthd():
    E.lab.start_berthd()
    E.proc = E.lab.proc


def setup(args):
    E.berthd, E.berth, E.plugin = args.berthd, args.berth, args.cni_plugin
    E.dir = harness.tmpdir("berth-cni-")
    E.lab = Lab(TAG, E.berthd, E.dir)
    E.sock = E.lab.sock
    E.lab.create()
    start_berthd()


def state_snapshot():
    return (endpoint_names(), network_names(), vb_links())


def scenario():
    log("== VERSION and STATUS")
    rc, out, raw = cni("VERSION", raw='{"cniVersion":"1.0.0"}')
    check(rc == 0 and out and "1.0.0" in out["supportedVersions"] and "1.1.0" in out["supportedVersions"]
          and out["cniVersion"] == "1.0.0", "VERSION lists 0.3.0-1.1.0 and echoes the asked version", raw)
    rc, out, raw = cni("VERSION", raw="")
    check(rc == 0 and out and out["cniVersion"] == "1.1.0", "VERSION without a config", raw)
    rc, out, raw = cni("STATUS")
    check(rc == 0 and not out, "STATUS: ready", raw)

    log("== ADD")
    c1 = add_ns("c1")
    ports = {"portMappings": [{"hostPort": 18080, "containerPort": 8080, "protocol": "tcp"}],
             "aliases": {"web": ["www"]}}
    rc, res, raw = cni("ADD", cid("c1"), netns=c1, args="IgnoreUnknown=1;K8S_POD_NAME=c1",
                       config=conf(runtimeConfig=ports))
    check(rc == 0 and res, "ADD c1 (network web made on first use)", raw)
    res = res or {}
    ip1 = (res.get("ips") or [{}])[0].get("address", "")
    check(res.get("cniVersion") == "1.1.0", "result carries the config's version", raw)
    check(ip1.startswith("10.90.1.") and 10 <= int(ip1.split("/")[0].split(".")[3]) <= 20 and ip1.endswith("/24"),
          "address from rangeStart..rangeEnd", ip1)
    inside = [i for i in res.get("interfaces", []) if i.get("sandbox")]
    check(len(inside) == 1 and inside[0]["name"] == "eth0" and inside[0]["sandbox"] == c1 and inside[0].get("mac"),
          "result names eth0 in the sandbox with its MAC", raw)
    idx = (res.get("ips") or [{}])[0].get("interface")
    check(idx is not None and res["interfaces"][idx]["name"] == "eth0", "ips[].interface points at eth0", raw)
    check(res.get("routes") == [{"dst": "0.0.0.0/0", "gw": "10.90.1.1"}], "default route via the gateway", raw)
    check(res.get("dns", {}).get("nameservers") == ["10.90.1.1"], "berth's DNS on the gateway", raw)
    check(addrs("c1") == [ip1], "eth0 in the namespace has the address", str(addrs("c1")))
    check(mac_of("c1") == inside[0]["mac"] if inside else False, "MAC in the kernel = the result's", str(mac_of("c1")))
    net = berth_json("network", "inspect", "web") or {}
    net = net[0] if isinstance(net, list) and net else net
    check(net.get("IPAM", {}).get("Config", [{}])[0].get("Subnet") == "10.90.1.0/24", "berth network web exists", json.dumps(net)[:300])
    names = [c.get("Name") for c in net.get("Containers", {}).values()]
    check(names == ["c1"], "berth network inspect shows the container by its name", str(names))
    eps = {e["name"]: e for e in berth_json("ps") or []}
    check(eps.get("c1", {}).get("container_id") == cid("c1"), "the endpoint records the container id")

    c2 = add_ns("c2")
    rc, res2, raw = cni("ADD", cid("c2"), netns=c2, args="IgnoreUnknown=1;K8S_POD_NAME=c2;MAC=02:42:0a:5a:01:63",
                        config=conf(runtimeConfig={"ips": ["10.90.1.99/24"]}))
    check(rc == 0, "ADD c2 with a static IP (capability) and a MAC (CNI_ARGS)", raw)
    check(addrs("c2") == ["10.90.1.99/24"], "static address outside the dynamic range", str(addrs("c2")))
    check(mac_of("c2") == "02:42:0a:5a:01:63", "MAC from CNI_ARGS", str(mac_of("c2")))

    log("== traffic, names, ports")
    ip1a = ip1.split("/")[0]
    check(wait_for(lambda: dig("c1", "10.90.1.1", "c2") == "10.90.1.99", timeout=5), "c1 resolves c2 on the gateway")
    check(dig("c2", "10.90.1.1", "www") == ip1a, "the alias from the aliases capability resolves", dig("c2", "10.90.1.1", "www"))
    harness.Proc("echo-c1", in_ns(TAG + "-c1", "python3", ECHO, "c1", "8080"), os.path.join(E.dir, "echo-c1.log"))
    got = wait_for(lambda: sh(in_ns(TAG + "-c2", "python3", PROBE, ip1a, "8080", "tcp", "1.5"), check_rc=False).stdout.strip(), timeout=10)
    check(got.startswith("c1"), "c2 reaches c1 on the network", got)
    got = wait_for(lambda: sh(in_ns(OUT, "python3", PROBE, HOST_IP, "18080", "tcp", "1.5"), check_rc=False).stdout.strip(), timeout=10)
    check(got.startswith("c1"), "published port 18080 answers from another namespace", got)
    got = sh(in_ns(HOST, "python3", PROBE, HOST_IP, "18080", "tcp", "1.5"), check_rc=False).stdout.strip()
    check(got.startswith("c1"), "published port answers from the host", got)

    log("== CHECK")
    rc, out, raw = cni("CHECK", cid("c1"), netns=c1, config=conf(prevResult=res))
    check(rc == 0, "CHECK c1 with its prevResult", raw)
    wrong = json.loads(json.dumps(res))
    wrong["ips"][0]["address"] = "10.90.1.77/24"
    rc, out, raw = cni("CHECK", cid("c1"), netns=c1, config=conf(prevResult=wrong))
    check(rc != 0 and out and out.get("code") == 102 and "10.90.1.77" in out.get("details", ""),
          "CHECK: a prevResult with another address is drift (102)", raw)
    sh(["ip", "-n", TAG + "-c2", "addr", "del", "10.90.1.99/24", "dev", "eth0"])
    rc, out, raw = cni("CHECK", cid("c2"), netns=c2)
    check(rc != 0 and out and out.get("code") == 102 and "10.90.1.99" in out.get("details", ""),
          "CHECK: an address removed behind berth's back is drift (102)", raw)
    sh(["ip", "-n", TAG + "-c2", "addr", "add", "10.90.1.99/24", "dev", "eth0"])
    sh(["ip", "-n", TAG + "-c2", "link", "del", "eth0"])
    rc, out, raw = cni("CHECK", cid("c2"), netns=c2)
    check(rc != 0 and out and out.get("code") == 102 and "missing" in out.get("details", ""),
          "CHECK: a missing interface is drift (102)", raw)
    rc, out, raw = cni("CHECK", cid("nobody"), netns=c1)
    check(rc != 0 and out and out.get("code") == 3, "CHECK of an unknown container: code 3", raw)
    rc, out, raw = cni("CHECK", cid("c1"), netns=c1, config=conf(version="0.3.1"))
    check(rc != 0 and out and out.get("code") == 1, "CHECK with cniVersion 0.3.1: code 1", raw)

    log("== failures change nothing")
    before = state_snapshot()
    c3 = add_ns("c3")
    rc, out, raw = cni("ADD", cid("c3"), netns=c3, raw='{"cniVersion": "1.0.0", "name": ')
    check(rc != 0 and out and out.get("code") == 6 and out.get("msg"), "bad JSON: code 6", raw)
    rc, out, raw = cni("ADD", cid("c3"), netns=c3, config=conf(name="ghost", ipam=None))
    check(rc != 0 and out and out.get("code") == 7 and "ghost" in out.get("msg", ""), "unknown network without ipam: code 7", raw)
    rc, out, raw = cni("ADD", cid("c3"), netns=ns_path("missing"), config=conf(name="fresh", ipam={"subnet": "10.90.3.0/24"}))
    check(rc != 0 and out and out.get("code") == 3, "missing netns: code 3", raw)
    check("fresh" not in network_names(), "the network made for a failed ADD is taken back", str(network_names()))
    rc, out, raw = cni("ADD", cid("c3"), netns=c3, config=conf(runtimeConfig={"ips": ["10.90.1.99"]}))
    check(rc != 0 and out and out.get("code") == 100, "an address already taken: code 100", raw)
    rc, out, raw = cni("ADD", cid("c3"), netns=c3, config=conf(runtimeConfig={"ips": ["10.77.0.5"]}))
    check(rc != 0 and out and out.get("code") == 7, "an address outside the subnet: code 7", raw)
    rc, out, raw = cni("ADD", cid("c3"), netns=c3, config=conf(ipam={"subnet": "10.90.9.0/24"}))
    check(rc != 0 and out and out.get("code") == 7 and "10.90.1.0/24" in out.get("details", ""),
          "a config contradicting the network's subnet: code 7", raw)
    rc, out, raw = cni("ADD", cid("c1"), netns=c1)
    check(rc != 0 and out and out.get("code") == 100, "ADD twice without DEL: code 100", raw)
    rc, out, raw = cni("ADD", cid("c3"), netns=c3, args="FOO=1")
    check(rc != 0 and out and out.get("code") == 4, "unknown CNI_ARGS without IgnoreUnknown: code 4", raw)
    check(state_snapshot() == before, "no endpoint, network or link left by the failures",
          "%s vs %s" % (before, state_snapshot()))
    check(addrs("c3") is None, "no interface made in c3")
    check(addrs("c1") == [ip1], "c1 untouched")

    log("== a second network, and a chained prevResult")
    rc, out, raw = cni("ADD", cid("c1"), ifname="eth1", netns=c1,
                       config=conf(name="db", ipam={"subnet": "10.90.2.0/24"}, runtimeConfig=ports))
    check(rc == 0 and addrs("c1", "eth1") and addrs("c1", "eth1")[0].startswith("10.90.2."), "c1 joins db as eth1", raw)
    check(rc == 0 and "routes" in out and out["routes"] == [], "no second default route", raw)
    prev = {"cniVersion": "1.0.0", "interfaces": [{"name": "tap0"}],
            "ips": [{"address": "192.0.2.5/24", "interface": 0}], "dns": {"nameservers": ["192.0.2.53"]}}
    rc, out, raw = cni("ADD", cid("c3"), netns=c3, config=conf(version="1.0.0", prevResult=prev))
    check(rc == 0 and out["interfaces"][0]["name"] == "tap0" and len(out["ips"]) == 2
          and out["ips"][0]["address"] == "192.0.2.5/24" and out["interfaces"][out["ips"][1]["interface"]]["name"] == "eth0"
          and out["dns"]["nameservers"][0] == "192.0.2.53", "chained: prevResult kept, ours appended", raw)
    rc, out, raw = cni("ADD", cid("c4"), netns=add_ns("c4"), config=conf(version="0.4.0"))
    check(rc == 0 and out["ips"][0].get("version") == "4", "0.4.0 results carry ips[].version", raw)

    log("== DEL")
    rc, out, raw = cni("DEL", cid("c1"), ifname="eth1", netns=c1, config=conf(name="db", ipam={"subnet": "10.90.2.0/24"}))
    # DEL takes the veth down at once and deletes it right after (the runtime drops the netns next).
    check(rc == 0 and wait_for(lambda: addrs("c1", "eth1") is None, timeout=3) and addrs("c1") == [ip1],
          "DEL db leaves c1 on web", raw)
    c2_host = [a.get("host_ifname") for e in berth_json("ps") or [] if e["name"] == "c2" for a in e["networks"]]
    rc, out, raw = cni("DEL", cid("c2"), netns=c2)
    check(rc == 0 and not out, "DEL c2", raw)
    rc, out, raw = cni("DEL", cid("c2"), netns=c2)
    check(rc == 0, "DEL c2 again", raw)
    rc, out, raw = cni("DEL", cid("c2"))
    check(rc == 0, "DEL without CNI_NETNS", raw)
    rc, out, raw = cni("DEL", cid("never"), netns=c2)
    check(rc == 0, "DEL of a container berth never saw", raw)
    attached = [a.get("host_ifname") for e in berth_json("ps") or [] for a in e["networks"]]
    check(c2_host and c2_host[0] not in vb_links() and wait_for(lambda: vb_links() == sorted(attached), timeout=3),
          "c2's host veth is gone; every veth left belongs to an attachment", "%s %s" % (c2_host, vb_links()))
    check(dig("c1", "10.90.1.1", "c2") == "", "c2's name is gone", dig("c1", "10.90.1.1", "c2"))
    check("c2" not in endpoint_names(), "c2's endpoint is gone")

    log("== GC")
    c6 = add_ns("c6")
    rc, _, raw = cni("ADD", cid("c6"), netns=c6, args="IgnoreUnknown=1;K8S_POD_NAME=c6")
    check(rc == 0, "ADD c6", raw)
    add_ns("plain")
    r = sh(net_of(HOST, E.berth, "--api", E.sock, "network", "connect", "web", ns_path("plain")), check_rc=False)
    check(r.returncode == 0, "an endpoint of berth's own on web", r.stderr)
    valid = [{"containerID": cid("c1"), "ifname": "eth0"}, {"containerID": cid("c6"), "ifname": "eth0"}]
    rc, out, raw = cni("GC", config=conf(**{"cni.dev/valid-attachments": valid}))
    check(rc == 0, "GC", raw)
    left = endpoint_names()
    check("c1" in left and "c6" in left and TAG + "-plain" in left, "GC keeps the valid attachments and berth's own", str(left))
    check(not any(n.startswith("cni-") for n in left)
          and wait_for(lambda: addrs("c3") is None and addrs("c4") is None, timeout=3),
          "GC removed c3 and c4", str(left))

    log("== a container namespace deleted without DEL")
    c8 = add_ns("c8")
    rc, res8, raw = cni("ADD", cid("c8"), netns=c8, args="IgnoreUnknown=1;K8S_POD_NAME=c8",
                        config=conf(runtimeConfig={"portMappings": [{"hostPort": 18088, "containerPort": 80}]}))
    check(rc == 0, "ADD c8 with a published port", raw)
    sh(["ip", "netns", "del", TAG + "-c8"])
    check(wait_for(lambda: "c8" not in endpoint_names(), timeout=5), "berth drops c8 when its namespace dies", str(endpoint_names()))
    check("18088" not in json.dumps(nft_elements(HOST) or {}), "its published port is gone")
    rc, out, raw = cni("DEL", cid("c8"), netns=c8)
    check(rc == 0, "the runtime's late DEL still succeeds", raw)

    log("== a deleted bridge: STATUS 51, CHECK drift, rebuilt by a restart")
    bridge = ((berth_json("network", "inspect", "web") or [{}])[0].get("Options") or {}).get("bridge") or \
        [i["name"] for i in res.get("interfaces", []) if i["name"].startswith("berth-")][0]
    sh(["ip", "-n", HOST, "link", "del", bridge])
    rc, out, raw = cni("STATUS")
    check(rc != 0 and out and out.get("code") == 51 and bridge in out.get("details", ""),
          "STATUS: code 51 (limited connectivity) naming the bridge", raw)
    rc, out, raw = cni("CHECK", cid("c1"), netns=c1)
    check(rc != 0 and out and out.get("code") == 102, "CHECK: drift", raw)
    E.proc.stop()
    start_berthd()
    rc, out, raw = cni("STATUS")
    check(rc == 0, "STATUS after the restart", raw)
    rc, out, raw = cni("CHECK", cid("c1"), netns=c1)
    check(rc == 0, "the restart put c1's port back on the new bridge (CHECK)", raw)
    got = wait_for(lambda: sh(in_ns(TAG + "-c6", "python3", PROBE, ip1a, "8080", "tcp", "1.5"), check_rc=False).stdout.strip(), timeout=10)
    check(got.startswith("c1"), "c6 reaches c1 again", got)

    log("== berthd down, and DEL after a reboot")
    c5 = add_ns("c5")
    rc, _, raw = cni("ADD", cid("c5"), netns=c5, args="IgnoreUnknown=1;K8S_POD_NAME=c5")
    check(rc == 0, "ADD c5", raw)
    E.proc.stop()
    rc, out, raw = cni("ADD", cid("c7"), netns=add_ns("c7"))
    check(rc != 0 and out and out.get("code") == 11 and E.sock in out.get("details", ""), "berthd down: ADD gets code 11 naming the socket", raw)
    rc, out, raw = cni("STATUS")
    check(rc != 0 and out and out.get("code") == 50, "berthd down: STATUS gets code 50", raw)
    rc, out, raw = cni("VERSION", raw='{"cniVersion":"1.1.0"}')
    check(rc == 0, "berthd down: VERSION still answers", raw)
    sh(["ip", "netns", "del", TAG + "-c5"])   # the "reboot": c5's namespace is gone
    start_berthd()
    rc, out, raw = cni("DEL", cid("c5"), netns=c5)
    check(rc == 0, "DEL after the reboot", raw)
    check("c5" not in endpoint_names(), "c5 was cleaned up at start")
    rc, out, raw = cni("CHECK", cid("c1"), netns=c1)
    check(rc == 0, "c1 survives the restart (CHECK)", raw)

    log("== nothing left")
    for name in ("c1", "c6"):
        rc, _, raw = cni("DEL", cid(name), netns=ns_path(name))
        check(rc == 0, "DEL " + name, raw)
    sh(net_of(HOST, E.berth, "--api", E.sock, "network", "disconnect", "web", TAG + "-plain"), check_rc=False)
    check(endpoint_names() == [], "no endpoint left", str(endpoint_names()))
    check(wait_for(lambda: vb_links() == [], timeout=3), "no host veth left", str(vb_links()))
    elements = nft_elements(HOST) or {}
    leftover = [k for k, v in elements.items() if v and ("10.90." in json.dumps(v) or "18080" in json.dumps(v))]
    check(not leftover, "no nft element of the containers left", json.dumps(elements)[:400])
    r = sh(in_ns(HOST, "dig", "+time=2", "+tries=1", "+short", "@10.90.1.1", "c1"), check_rc=False)
    check(r.returncode == 0 and r.stdout.strip() == "", "no name left (c1 -> NXDOMAIN)", r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", required=True)
    ap.add_argument("--berth", required=True)
    ap.add_argument("--cni-plugin", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root for network namespaces")
        return 0
    try:
        setup(args)
        scenario()
    finally:
        if getattr(E, "lab", None):
            E.lab.destroy()
        else:
            harness.remove_namespaces([TAG])
    harness.finish()


if __name__ == "__main__":
    sys.exit(main())
