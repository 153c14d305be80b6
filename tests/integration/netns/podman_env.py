"""A private, throwaway Podman for berth's tests and benchmarks (tests/integration/netns/
test_cni_podman.py, bench/podman_run.py).

Everything Podman keeps lives in one work dir: storage (--root/--runroot through a private
storage.conf), tmp_dir (locks, exit files, events), volumes, the network config dirs and the CNI
plugin dir, all named by a private containers.conf passed as CONTAINERS_CONF (which then is the
only containers.conf Podman reads, so /etc/containers is neither read nor written). The image is
a busybox-static rootfs imported as localhost/bb: no registry.

Every podman command runs inside a given network namespace (`nsenter --net=`, not `ip netns
exec`: that would also give it a private mount namespace and hide its /run/netns mounts), so
bridges, veths and firewall rules land in the test's "host" namespace only.

Podman 4.3 (rootful) still writes a few things outside the work dir; cleanup() removes those it
created, measured on Debian 12:
  - /run/netns/netns-<uuid>: each container's network namespace (removed by Podman at rm);
  - /var/lib/cni/results/<net>-<id>-<if>: libcni's result cache (CNI backend; no knob in 4.3);
  - /run/containers/networks/ipam.db: netavark's IPAM (netavark backend; fixed path for root);
  - /run/runc/<id>: runc's state (removed at rm);
  - /sys/fs/cgroup/*/libpod_parent/{conmon,libpod-<id>}: cgroupfs cgroups (runc needs cgroups);
  - /var/lib/containers/cache/blob-info-cache-v1.boltdb: written by `podman import` for root
    whatever the storage root; avoided by running the import with a private /var/lib.

Pitfalls found on the way:
  - no static_dir in containers.conf: conmon's exit command (`podman container cleanup`, which
    also runs the CNI DEL) gets --root but not static_dir, opens another database, cannot find the
    container, and every `podman run` waits 20 s ("Exceeded conmon timeout"). The default
    (<root>/libpod) is private already.
  - crun fails here (cgroups hybrid mode): runtime = "runc". runc needs cgroups (no
    `cgroups = "disabled"`), so cgroup_manager = "cgroupfs" (no systemd).
  - the default ulimits fail (setrlimit: Operation not permitted): default_ulimits below.
"""
import glob
import json
import os
import shutil
import subprocess
import time

PODMAN = shutil.which("podman") or "/usr/bin/podman"
BUSYBOX = "/bin/busybox"
IMAGE = "localhost/bb"
# Paths outside the work dir Podman may create; cleanup() removes the ones it created.
_OUTSIDE = ("/var/lib/cni/results", "/var/lib/cni", "/run/containers/networks", "/run/containers",
            "/run/runc")


def available():
    """None when a rootful Podman can run here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root"
    if not os.path.exists(PODMAN):
        return "podman is not installed"
    if not shutil.which("runc"):
        return "runc is not installed"
    if not os.path.exists(BUSYBOX) and not shutil.which("busybox"):
        return "busybox-static is not installed"
    return None


def netns_names():
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


class Podman:
    """One private Podman. backend "cni" uses `cni_plugins` (name -> binary path) from a private
    plugin dir ahead of /usr/lib/cni; backend "netavark" is Podman's own. Each backend has its
    own storage and tmp_dir (one database per backend, so a container is always
    removed by the backend that made it)."""

    def __init__(self, workdir, netns, cni_plugins=None, log=print, taskset=None):
        self.dir = workdir
        self.netns = netns
        self.log = log
        self.taskset = taskset  # e.g. "1": pin podman (and what it forks) to that core
        self.driver = None
        self.ids = set()  # every container id seen, for the leak checks and clean-up
        self.sandboxes = set()  # every /run/netns path a container of ours had
        self.before = {p: os.path.exists(p) for p in _OUTSIDE}
        self.cgroups_before = set(glob.glob("/sys/fs/cgroup/*/libpod_parent"))
        self.netns_before = netns_names()
        for d in ("xdg", "volumes", "imgtmp", "plugins", "net.d", "net.d-netavark", "varlib", "rootfs"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        for name, path in (cni_plugins or {}).items():
            os.symlink(os.path.abspath(path), os.path.join(self.dir, "plugins", name))
        self.backends = ()
        self.confs = {b: os.path.join(self.dir, "containers-%s.conf" % b) for b in ("cni", "netavark")}

    # -----------------------------------------------------------------------------------------
    # set-up

    def _write_confs(self, backend):
        values = {"backend": backend, "plugins": os.path.join(self.dir, "plugins"),
                  "net": os.path.join(self.dir, "net.d" if backend == "cni" else "net.d-netavark"),
                  "tmp": os.path.join(self.dir, "tmp-" + backend), "vol": os.path.join(self.dir, "volumes"),
                  "imgtmp": os.path.join(self.dir, "imgtmp")}
        with open(self.confs[backend], "w") as f:
            f.write("[containers]\n"
                    # Podman's built-in capabilities (with NET_RAW: busybox's ping needs a raw
                    # socket; Debian's /usr/share/containers/containers.conf, not read here,
                    # drops NET_RAW for ping_group_range, which busybox 1.35's ping ignores)
                    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                    "[network]\n"
                    'network_backend = "%(backend)s"\n'
                    'cni_plugin_dirs = ["%(plugins)s", "/usr/lib/cni"]\n'
                    'network_config_dir = "%(net)s"\n'
                    "[engine]\n"
                    'runtime = "runc"\n'
                    'cgroup_manager = "cgroupfs"\n'
                    'events_logger = "file"\n'
                    'lock_type = "file"\n'
                    'tmp_dir = "%(tmp)s"\n'
                    'volume_path = "%(vol)s"\n'
                    'image_copy_tmp_dir = "%(imgtmp)s"\n' % values)
        with open(os.path.join(self.dir, "storage-%s.conf" % backend), "w") as f:
            f.write('[storage]\ndriver = "%s"\ngraphroot = "%s"\nrunroot = "%s"\n'
                    % (self.driver, os.path.join(self.dir, "storage-" + backend),
                       os.path.join(self.dir, "run-" + backend)))

    def _rootfs(self):
        root = os.path.join(self.dir, "rootfs")
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "www"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        bb = BUSYBOX if os.path.exists(BUSYBOX) else shutil.which("busybox")
        shutil.copy(bb, os.path.join(root, "bin", "busybox"))
        applets = subprocess.run([bb, "--list-full"], capture_output=True, text=True, timeout=10).stdout.split()
        for a in applets:
            p = os.path.join(root, a)
            if not os.path.lexists(p):
                os.makedirs(os.path.dirname(p), exist_ok=True)
                os.symlink("/bin/busybox", p)
        with open(os.path.join(root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        with open(os.path.join(root, "etc", "group"), "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n")
        with open(os.path.join(root, "www", "index.html"), "w") as f:
            f.write("hello from berth\n")
        return root

    def setup(self, backends=("cni",)):
        """Writes the configs and imports the busybox image for each backend (overlay storage,
        vfs if overlay cannot work here). Raises RuntimeError when neither works."""
        root = self._rootfs()
        self.backends = tuple(backends)
        for backend in backends:
            self._import(root, backend)
        return self.driver

    def _import(self, root, backend):
        last = ""
        for driver in ((self.driver,) if self.driver else ("overlay", "vfs")):
            self.driver = driver
            for d in ("storage-", "run-", "tmp-"):
                os.makedirs(os.path.join(self.dir, d + backend), exist_ok=True)
            self._write_confs(backend)
            tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
            # `podman import` writes a blob-info cache to /var/lib/containers/cache for root,
            # whatever the storage root: give it a private /var/lib (own mount namespace).
            r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                'mount --bind "$1" /var/lib && shift && exec "$@"', "sh",
                                os.path.join(self.dir, "varlib"), PODMAN, "import", "-", IMAGE],
                               stdin=tar.stdout, capture_output=True, text=True, env=self.env(backend), timeout=120)
            tar.stdout.close()
            tar.wait(timeout=30)
            if r.returncode == 0:
                return driver
            last = r.stderr
            self.log("podman import with the %s storage driver failed: %s" % (driver, r.stderr.strip()[-300:]))
            self.driver = None
            self._umount_all()
            for d in ("storage-", "run-", "tmp-"):
                shutil.rmtree(os.path.join(self.dir, d + backend), ignore_errors=True)
        raise RuntimeError("podman cannot import an image here: " + last)

    # -----------------------------------------------------------------------------------------
    # running podman

    def env(self, backend="cni"):
        env = dict(os.environ)
        env.update(CONTAINERS_CONF=self.confs[backend],
                   CONTAINERS_STORAGE_CONF=os.path.join(self.dir, "storage-%s.conf" % backend),
                   XDG_RUNTIME_DIR=os.path.join(self.dir, "xdg"), TMPDIR=os.path.join(self.dir, "imgtmp"))
        env.pop("CONTAINERS_REGISTRIES_CONF", None)
        return env

    def argv(self, args, backend="cni"):
        argv = ["nsenter", "--net=/run/netns/" + self.netns, PODMAN] + list(args)
        if self.taskset is not None:
            argv = ["taskset", "-c", str(self.taskset)] + argv
        return argv

    def run(self, *args, backend="cni", timeout=60, inp=None):
        """podman ARGS in the namespace; returns (rc, stdout, stderr). rc 124 on timeout."""
        try:
            r = subprocess.run(self.argv(args, backend), capture_output=True, text=True, env=self.env(backend),
                               timeout=timeout, input=inp, stdin=None if inp is not None else subprocess.DEVNULL)
            return r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
            return 124, out, err + "\n(timed out after %ss)" % timeout

    def remember(self, name_or_id, backend="cni"):
        """Records a container's id and network namespace for the leak checks and clean-up."""
        rc, out, _ = self.run("inspect", "--format", "{{.Id}} {{.NetworkSettings.SandboxKey}}", name_or_id,
                              backend=backend, timeout=30)
        if rc == 0 and out.split():
            parts = out.split()
            self.ids.add(parts[0])
            if len(parts) > 1 and parts[1].startswith("/run/netns/"):
                self.sandboxes.add(parts[1])
            return parts[0]
        return None

    def inspect(self, name, backend="cni"):
        rc, out, err = self.run("inspect", name, backend=backend, timeout=30)
        if rc != 0:
            return None
        data = json.loads(out or "[]")
        return data[0] if data else None

    def networks_of(self, name, backend="cni"):
        """{network: {"IPAddress":..., "MacAddress":..., "Gateway":..., "IPPrefixLen":...}}"""
        info = self.inspect(name, backend) or {}
        return (info.get("NetworkSettings") or {}).get("Networks") or {}

    # -----------------------------------------------------------------------------------------
    # what is left behind

    def leftovers(self):
        """What this Podman left outside its work dir after its containers were removed:
        a list of strings, empty when clean."""
        left = []
        new_ns = sorted(n for n in netns_names() - self.netns_before if n.startswith("netns-"))
        mine = [s for s in self.sandboxes if os.path.exists(s)]
        if mine:
            left.append("container netns " + " ".join(mine))
        elif new_ns:
            left.append("Podman-style netns made meanwhile (ours?) " + " ".join(new_ns))
        for cid in self.ids:
            for p in glob.glob("/var/lib/cni/results/*-%s-*" % cid) + glob.glob("/run/runc/" + cid):
                left.append(p)
            for p in glob.glob("/sys/fs/cgroup/*/libpod_parent/libpod-" + cid):
                left.append(p)
        return left

    def _umount_all(self):
        prefix = os.path.realpath(self.dir) + "/"
        for _ in range(3):
            with open("/proc/self/mounts") as f:
                mounts = [line.split()[1] for line in f]
            mine = sorted({m for m in mounts if (m + "/").startswith(prefix)}, key=len, reverse=True)
            if not mine:
                return
            for m in mine:
                if subprocess.run(["umount", m], capture_output=True).returncode != 0:
                    subprocess.run(["umount", "-l", m], capture_output=True)

    def cleanup(self, remove_dir=True):
        """Removes every container (both backends), then what Podman made outside the work dir
        (only what was not there before), then the work dir. Never raises."""
        for backend in self.backends:
            try:
                rc, out, _ = self.run("ps", "-aq", "--no-trunc", backend=backend, timeout=30)
                for cid in out.split():
                    self.ids.add(cid)
                    self.remember(cid, backend)
                self.run("rm", "-af", "-t", "0", backend=backend, timeout=90)
            except Exception as e:  # noqa: BLE001 - clean up as much as possible
                self.log("podman rm -af (%s): %r" % (backend, e))
        for cid in self.ids:
            if os.path.isdir("/run/runc/" + cid):
                subprocess.run(["runc", "delete", "--force", cid], capture_output=True, timeout=30)
        # Only namespaces known to be ours (Podman removes them at rm; this is for a Podman
        # that failed half-way): another test may be making netns-* ones right now.
        for ns in self.sandboxes:
            if os.path.exists(ns):
                subprocess.run(["ip", "netns", "del", os.path.basename(ns)], capture_output=True)
        for cid in self.ids:
            for p in glob.glob("/var/lib/cni/results/*-%s-*" % cid):
                try:
                    os.remove(p)
                except OSError:
                    pass
            for p in glob.glob("/sys/fs/cgroup/*/libpod_parent/libpod-" + cid):
                _rmdir_tree(p)
        for parent in set(glob.glob("/sys/fs/cgroup/*/libpod_parent")) - self.cgroups_before:
            _rmdir_tree(parent)
        if not self.before["/run/containers/networks"] and os.path.isdir("/run/containers/networks"):
            # netavark's IPAM database of our (removed) containers
            shutil.rmtree("/run/containers/networks", ignore_errors=True)
        for p in _OUTSIDE:  # innermost first; only empty dirs go
            if not self.before[p] and os.path.isdir(p):
                try:
                    os.rmdir(p)
                except OSError:
                    pass
        self._umount_all()
        if remove_dir and not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def _rmdir_tree(path):
    """rmdir a cgroup directory tree bottom-up (cgroup dirs cannot be rm -r'ed; busy ones stay)."""
    for d, _, _ in sorted(os.walk(path), key=lambda t: len(t[0]), reverse=True):
        for _ in range(3):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
