"""Benchmark (not a test): attaching a network namespace to a bridge network with one
published port, and detaching it, for berth (berthd's API), netavark (`netavark setup` /
`teardown`, what Podman runs) and the CNI reference plugins (bridge + host-local + portmap, run
the way a runtime chains them). Everything happens inside a bench "host" network namespace, so
the machine's interfaces and firewall are never touched.

Prints p50/p99 attach and detach latency per tool, berthd's server CPU per attach, and the
ratios; then, for berth, how attach latency moves from the first endpoints on one network to
the 1000th. The work side (berthd, netavark, the plugins) is pinned to core 0, this driver to
core 1. See docs/benchmarks.md.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness  # noqa: E402  (namespace clean-up shared with the tests)

NETAVARK = "/usr/lib/podman/netavark"
CNI_DIR = "/usr/lib/cni"
TAG = "bb%04d" % (os.getpid() % 10000)
HOST = TAG + "-host"


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def call(sock, method, path, body=None):
    c = UnixConn(sock)
    try:
        c.request(method, path, body=json.dumps(body) if body is not None else None)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def sh(argv, inp=None, env=None, check=True):
    r = subprocess.run(argv, input=inp, capture_output=True, text=True, env=env, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError("%s -> %d: %s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


def on_core0(argv):
    return ["taskset", "-c", "0", "nsenter", "--net=/run/netns/" + HOST] + argv


def new_ns(i):
    name = "%s-c%d" % (TAG, i)
    sh(["ip", "netns", "add", name])
    return name


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def report(name, attach, detach, extra=""):
    print("%-9s attach p50 %7.2f ms  p99 %7.2f ms   detach p50 %7.2f ms  p99 %7.2f ms  %s" % (
        name, pct(attach, 50) * 1e3, pct(attach, 99) * 1e3, pct(detach, 50) * 1e3, pct(detach, 99) * 1e3, extra))
    sys.stdout.flush()


def bench_berth(args, work):
    state = os.path.join(work, "berth")
    sock = os.path.join(state, "api.sock")
    os.makedirs(state)
    cfg = os.path.join(state, "berthd.yaml")
    with open(cfg, "w") as f:
        f.write("dns:\n  forward: []\nnetworks:\n  enabled: true\n  default_subnet: 10.89.0.0/24\n")
    log = open(os.path.join(state, "log"), "w")
    proc = subprocess.Popen(on_core0([args.berthd, "--config", cfg, "--state-dir", state, "--api-socket", sock,
                                      "--api-listen", "", "--dns-listen", "127.0.0.1:5399",
                                      "--log-level", "warn"]), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if call(sock, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        st, body = call(sock, "POST", "/api/v1/networks", {"name": "bench", "subnets": [{"subnet": "10.90.0.0/16"}]})
        assert st == 201, body
        pid = int(sh(["pgrep", "-f", "--newest", "berthd --config " + cfg]).stdout.split()[0])

        def attach_detach(n, first_index, keep=False):
            namespaces = [new_ns(first_index + i) for i in range(n)]
            attach, detach = [], []
            cpu0 = cpu_seconds(pid)
            for i, ns in enumerate(namespaces):
                t = time.perf_counter()
                st, body = call(sock, "POST", "/api/v1/endpoints",
                                {"name": ns, "netns": "/run/netns/" + ns, "networks": [{"network": "bench"}],
                                 "ports": ["%d:80" % (20000 + first_index + i)]})
                attach.append(time.perf_counter() - t)
                assert st == 201, body
            cpu_attach = (cpu_seconds(pid) - cpu0) / n
            if keep:
                return attach, [], cpu_attach, namespaces
            for ns in namespaces:
                t = time.perf_counter()
                st, body = call(sock, "DELETE", "/api/v1/endpoints/" + ns)
                detach.append(time.perf_counter() - t)
                assert st == 204, body
                sh(["ip", "netns", "del", ns])
            return attach, detach, cpu_attach, []

        attach, detach, cpu, _ = attach_detach(args.count, 0)
        report("berth", attach, detach, "server CPU %.2f ms/attach" % (cpu * 1e3))
        result = {"attach": attach, "detach": detach}
        if args.scale:
            # 1000 endpoints on one network, each with a published port. Single attaches are
            # noisy here (one slow one moves a median of ten), so the growth is read three ways:
            # medians of the first and last 10 and 50, and a least-squares line over all of them
            # (its value at the last attach over its value at the first).
            time.sleep(2)  # let the kernel finish freeing the veths of the run above
            attach, _, _, kept = attach_detach(args.scale, 10000, keep=True)
            n = len(attach)
            h10, t10 = statistics.median(attach[:10]), statistics.median(attach[-10:])
            h50, t50 = statistics.median(attach[:50]), statistics.median(attach[-50:])
            fit = statistics.linear_regression(range(1, n + 1), attach)
            first, last = fit.intercept + fit.slope, fit.intercept + fit.slope * n
            print("berth scale: attach #1-10 median %.2f ms, #%d-%d %.2f ms -> %.2fx; #1-50 %.2f ms, #%d-%d %.2f ms "
                  "-> %.2fx; fitted line %.2f -> %.2f ms -> %.2fx (+%.2f us per endpoint)" % (
                      h10 * 1e3, n - 9, n, t10 * 1e3, t10 / h10, h50 * 1e3, n - 49, n, t50 * 1e3, t50 / h50,
                      first * 1e3, last * 1e3, last / first, fit.slope * 1e6))
            step = max(1, n // 10)
            print("berth scale: median per %d attaches: %s ms" % (step, " ".join(
                "%.2f" % (statistics.median(attach[i:i + step]) * 1e3) for i in range(0, n, step))))
            for ns in kept:
                call(sock, "DELETE", "/api/v1/endpoints/" + ns)
                sh(["ip", "netns", "del", ns])
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def netavark_options(i, ns):
    return json.dumps({
        "container_id": "%064x" % (i + 1), "container_name": ns,
        "port_mappings": [{"host_ip": "", "container_port": 80, "host_port": 21000 + i, "range": 1, "protocol": "tcp"}],
        "networks": {"nbench": {"static_ips": ["10.91.%d.%d" % ((i + 2) // 250, (i + 2) % 250 + 2)],
                                "interface_name": "eth0"}},
        "network_info": {"nbench": {"name": "nbench", "id": "%064x" % 7, "driver": "bridge",
                                    "network_interface": "nvbr0",
                                    "subnets": [{"subnet": "10.91.0.0/16", "gateway": "10.91.0.1"}],
                                    "ipv6_enabled": False, "internal": False, "dns_enabled": False,
                                    "ipam_options": {"driver": "host-local"}}}})


def bench_netavark(args, work):
    cfg = os.path.join(work, "netavark")
    os.makedirs(cfg)
    attach, detach = [], []
    for i in range(args.count):
        ns = new_ns(20000 + i)
        opts = netavark_options(i, ns)
        t = time.perf_counter()
        sh(on_core0([NETAVARK, "--config", cfg, "setup", "/run/netns/" + ns]), inp=opts)
        attach.append(time.perf_counter() - t)
        t = time.perf_counter()
        sh(on_core0([NETAVARK, "--config", cfg, "teardown", "/run/netns/" + ns]), inp=opts)
        detach.append(time.perf_counter() - t)
        sh(["ip", "netns", "del", ns])
    report("netavark", attach, detach)
    return {"attach": attach, "detach": detach}


def bench_cni(args, work):
    data = os.path.join(work, "cni")
    os.makedirs(data)
    bridge_conf = {"cniVersion": "1.0.0", "name": "cnibench", "type": "bridge", "bridge": "cnibr0",
                   "isGateway": True, "ipMasq": True,
                   "ipam": {"type": "host-local", "subnet": "10.92.0.0/16", "dataDir": data}}

    def plugin(kind, command, conf, ns, cid):
        env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID=cid, CNI_NETNS="/run/netns/" + ns,
                   CNI_IFNAME="eth0", CNI_PATH=CNI_DIR)
        return sh(on_core0([os.path.join(CNI_DIR, kind)]), inp=json.dumps(conf), env=env).stdout

    attach, detach = [], []
    for i in range(args.count):
        ns = new_ns(30000 + i)
        cid = "cni%d" % i
        ports = {"cniVersion": "1.0.0", "name": "cnibench", "type": "portmap", "capabilities": {"portMappings": True},
                 "runtimeConfig": {"portMappings": [{"hostPort": 22000 + i, "containerPort": 80, "protocol": "tcp"}]}}
        t = time.perf_counter()
        result = json.loads(plugin("bridge", "ADD", bridge_conf, ns, cid))
        ports["prevResult"] = result
        plugin("portmap", "ADD", ports, ns, cid)
        attach.append(time.perf_counter() - t)
        t = time.perf_counter()
        plugin("portmap", "DEL", ports, ns, cid)
        plugin("bridge", "DEL", dict(bridge_conf, prevResult=result), ns, cid)
        detach.append(time.perf_counter() - t)
        sh(["ip", "netns", "del", ns])
    report("cni", attach, detach)
    return {"attach": attach, "detach": detach}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", default=os.environ.get("BERTHD", "build/bin/berthd"))
    ap.add_argument("--count", type=int, default=200, help="attach/detach cycles per tool")
    ap.add_argument("--scale", type=int, default=1000, help="endpoints on one network for the scaling run (0: skip)")
    ap.add_argument("--tools", default="berth,netavark,cni")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    os.sched_setaffinity(0, {1})
    work = tempfile.mkdtemp(prefix="berth-netbench-")
    sh(["ip", "netns", "add", HOST])
    sh(["ip", "-n", HOST, "link", "set", "lo", "up"])
    results = {}
    try:
        for tool in args.tools.split(","):
            if tool == "berth":
                results[tool] = bench_berth(args, work)
            elif tool == "netavark" and os.path.exists(NETAVARK):
                results[tool] = bench_netavark(args, work)
            elif tool == "cni" and os.path.exists(os.path.join(CNI_DIR, "portmap")):
                results[tool] = bench_cni(args, work)
            else:
                print("%s: not installed, skipped" % tool)
        if "berth" in results:
            b = pct(results["berth"]["attach"], 50)
            for peer in ("netavark", "cni"):
                if peer in results:
                    p = pct(results[peer]["attach"], 50)
                    print("attach p50 berth/%s = %.3f (target <= 0.2)" % (peer, b / p))
    finally:
        harness.remove_namespaces([TAG])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
