"""Benchmark (not a test): wall time of a whole `podman run --rm localhost/bb true` (Podman 4.3,
rootful, runc) on berth's CNI plugin against Podman's own netavark, with and without a
published port, and against `--network none` as the baseline a network adds to.

Cases, alternated within one run so that drift hits all alike:
  none        --network none
  berth       --network bench            (CNI backend, berth-cni -> berthd)
  berth-p     --network bench -p H:80
  netavark    --network nbench           (netavark backend, bridge network)
  netavark-p  --network nbench -p H:80

Everything happens inside a bench "host" network namespace with a private, throwaway Podman
(tests/integration/netns/podman_env.py), so the machine's interfaces, firewall and Podman state
are never touched. berthd is pinned to core 0; podman (and conmon, runc, the plugin, netavark,
all forked by it) to core 1, and this driver to core 1 too. Prints p50/p90 per case, the
network-only cost (case minus `none`), and the berth/netavark ratios. See docs/benchmarks.md.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "netns"))
import harness  # noqa: E402  (namespace clean-up shared with the tests)
import podman_env  # noqa: E402

TAG = "bq%04d" % (os.getpid() % 10000)
HOST = TAG + "-host"
CASES = ("none", "berth", "berth-p", "netavark", "netavark-p")
PORTS = {"berth-p": 18080, "netavark-p": 18081}


def sh(argv, timeout=60):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError("%s -> %d: %s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def case_args(case):
    net = {"none": "none", "berth": "bench", "berth-p": "bench", "netavark": "nbench", "netavark-p": "nbench"}[case]
    args = ["--network", net]
    if case in PORTS:
        args += ["-p", "%d:80" % PORTS[case]]
    return args


def backend_of(case):
    return "netavark" if case.startswith("netavark") else "cni"


def start_berthd(args, work):
    state = os.path.join(work, "berthd")
    os.makedirs(state)
    cfg = os.path.join(state, "berthd.yaml")
    with open(cfg, "w") as f:
        f.write("dns:\n  forward: []\nnetworks:\n  enabled: true\n  default_subnet: 10.199.0.0/24\n")
    sock = os.path.join(state, "api.sock")
    log = open(os.path.join(state, "log"), "w")
    # taskset and nsenter both exec: the pid is berthd's own
    proc = subprocess.Popen(["taskset", "-c", "0", "nsenter", "--net=/run/netns/" + HOST, args.berthd,
                             "--config", cfg, "--state-dir", state, "--api-socket", sock, "--api-listen", "",
                             "--dns-listen", "127.0.0.1:5399", "--log-level", "warn"],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("berthd exited: see " + os.path.join(state, "log"))
        try:
            if harness.http_unix(sock, "GET", "/readyz", timeout=1)[0] == 200:
                return proc, sock
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("berthd not ready within 20 s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", default=os.environ.get("BERTHD", os.path.join(ROOT, "build", "bin", "berthd")))
    ap.add_argument("--cni-plugin",
                    default=os.environ.get("BERTH_CNI", os.path.join(ROOT, "build", "bin", "berth-cni")))
    ap.add_argument("--count", type=int, default=30, help="timed runs per case")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs per case first")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--timeout", type=float, default=60, help="seconds allowed for one podman run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, rootful Podman)")
    why = podman_env.available()
    if why:
        sys.exit("podman: " + why)
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        sys.exit("unknown case(s) %s; known: %s" % (",".join(unknown), ",".join(CASES)))
    want_cni = any(backend_of(c) == "cni" and c != "none" for c in cases)
    if want_cni:
        for path in (args.berthd, args.cni_plugin):
            if not os.access(path, os.X_OK):
                sys.exit("%s is not an executable (build it, or pass --berthd / --cni-plugin)" % path)
    os.sched_setaffinity(0, {1})

    work = tempfile.mkdtemp(prefix="berth-podbench-")
    sh(["ip", "netns", "add", HOST])
    sh(["ip", "-n", HOST, "link", "set", "lo", "up"])
    berthd = None
    pm = podman_env.Podman(os.path.join(work, "podman"), HOST,
                           cni_plugins={"berth-cni": os.path.abspath(args.cni_plugin)} if want_cni else None,
                           taskset=1)
    try:
        backends = sorted({backend_of(c) for c in cases})
        driver = pm.setup(backends)
        print("podman %s, runc, %s storage; %d timed runs per case after %d warm-up"
              % (subprocess.run([podman_env.PODMAN, "--version"], capture_output=True, text=True).stdout.split()[-1],
                 driver, args.count, args.warmup))
        if want_cni:
            berthd, sock = start_berthd(args, work)
            with open(os.path.join(pm.dir, "net.d", "bench.conflist"), "w") as f:
                f.write('{"cniVersion":"1.0.0","name":"bench","plugins":[{"type":"berth-cni","socket":"%s",'
                        '"ipam":{"subnet":"10.94.0.0/24"},"capabilities":{"portMappings":true,"ips":true,'
                        '"mac":true,"aliases":true}}]}\n' % sock)
        if "netavark" in backends:
            rc, out, err = pm.run("network", "create", "--subnet", "10.95.0.0/24", "nbench", backend="netavark")
            if rc != 0:
                raise RuntimeError("podman network create nbench: " + err)

        def one(case):
            argv = ["run", "--rm"] + case_args(case) + [podman_env.IMAGE, "true"]
            t = time.perf_counter()
            rc, out, err = pm.run(*argv, backend=backend_of(case), timeout=args.timeout)
            return time.perf_counter() - t, rc, (out + err).strip()

        for case in list(cases):
            for _ in range(args.warmup):
                dt, rc, msg = one(case)
                if rc != 0:
                    print("%s: podman run failed (rc %d), case dropped: %s" % (case, rc, msg[-300:]))
                    cases.remove(case)
                    break
        times = {c: [] for c in cases}
        failures = {c: 0 for c in cases}
        cpu0 = cpu_seconds(berthd.pid) if berthd else 0.0
        for i in range(args.count):
            for case in cases:
                dt, rc, msg = one(case)
                if rc == 0:
                    times[case].append(dt)
                else:
                    failures[case] += 1
                    print("%s run %d failed (rc %d): %s" % (case, i, rc, msg[-200:]))
        berth_runs = sum(len(times[c]) for c in cases if c.startswith("berth"))
        server_cpu = (cpu_seconds(berthd.pid) - cpu0) / berth_runs if berthd and berth_runs else None

        print()
        print("%-11s %9s %9s %9s %12s %6s" % ("case", "p50 ms", "p90 ms", "min ms", "net p50 ms", "fails"))
        base = pct(times["none"], 50) if times.get("none") else None
        for case in cases:
            if not times[case]:
                print("%-11s %9s %9s %9s %12s %6d" % (case, "-", "-", "-", "-", failures[case]))
                continue
            p50, p90 = pct(times[case], 50), pct(times[case], 90)
            net = "%12.1f" % ((p50 - base) * 1e3) if base is not None and case != "none" else "%12s" % "-"
            print("%-11s %9.1f %9.1f %9.1f %s %6d" % (case, p50 * 1e3, p90 * 1e3, min(times[case]) * 1e3, net,
                                                      failures[case]))
        if server_cpu is not None:
            print("berthd CPU per berth run (ADD + DEL): %.2f ms" % (server_cpu * 1e3))
        print()
        for mine, peer in (("berth", "netavark"), ("berth-p", "netavark-p")):
            if times.get(mine) and times.get(peer):
                a, b = pct(times[mine], 50), pct(times[peer], 50)
                line = "p50 %s/%s = %.3f" % (mine, peer, a / b)
                if base is not None and b - base > 0:
                    line += "   network-only (minus none) = %.1f / %.1f ms = %.3f" % (
                        (a - base) * 1e3, (b - base) * 1e3, (a - base) / (b - base))
                print(line)
        sys.stdout.flush()
    finally:
        pm.cleanup()
        if berthd is not None:
            berthd.terminate()
            try:
                berthd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                berthd.kill()
                berthd.wait(timeout=5)
        harness.remove_namespaces([TAG])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
