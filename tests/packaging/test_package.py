"""The Debian package `cpack -G DEB` builds (packaging/linux/): what it
holds, its systemd units (`systemd-analyze verify`), its man page (renders
without warnings, names every command and option `--help` lists), its bash
completion (loads from the installed path, completes commands and options),
and an install on a clean Debian 12 root, after which `rtether --version`
runs from PATH.

The clean root: there is no network, so it is built from this Debian 12
host's own installed packages: the Essential ones (what every Debian system
has, debootstrap's minimum) and, one by one, what the .deb's Depends: needs,
recursively, and nothing else. Each package's files (`dpkg -L`) and its
dpkg status entry are copied, so the root's dpkg knows exactly those
packages and checks the .deb's dependencies against them, and the
binary finds only the libraries its Depends: brought. dpkg -i runs in a
chroot of it (its maintainer scripts too), in a mount namespace of its
own."""

import gzip
import os
import re
import shutil
import subprocess

import pytest

EXPECTED_FILES = {
    "./etc/default/rtether",
    "./lib/systemd/system/rtether-relay.service",
    "./lib/systemd/system/rtether-autorun.service",
    "./usr/bin/rtether",
    "./usr/share/man/man1/rtether.1.gz",
    "./usr/share/bash-completion/completions/rtether",
}
UNITS = ["rtether-relay.service", "rtether-autorun.service"]
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def run(args, timeout=60, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)


def field(deb, name):
    return run(["dpkg-deb", "--field", deb, name]).stdout.strip()


# --- the help the man page and the completion must agree with -----------------

def help_text(rtether, *command):
    result = run([rtether, *command, "--help"])
    assert result.returncode == 0, result.stderr
    return result.stdout


def subcommands(help):
    """The commands under "Subcommands:" in CLI11 help (none for a leaf)."""
    if "\nSubcommands:\n" not in help:
        return []
    section = help.split("\nSubcommands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ")]


def commands(rtether):
    return subcommands(help_text(rtether))


def options(help):
    """Option names in CLI11 help: "  -p,--port UINT..." -> -p, --port."""
    names = []
    for line in help.splitlines():
        match = re.match(r"^ {2,}(-\S+)", line)
        if match:
            names += [re.sub(r"\{.*\}$", "", name) for name in match.group(1).split(",")]
    return names


def has_serial(help):
    return "\nPositionals:\n  serial " in help


# --- contents --------------------------------------------------------------------

def test_package_holds_the_binary_units_man_page_and_completion(deb, build_dir):
    listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    files = {line.split()[-1]: line.split()[:2] for line in listing if not line.startswith("d")}
    assert set(files) == EXPECTED_FILES, listing
    assert files["./usr/bin/rtether"] == ["-rwxr-xr-x", "root/root"]
    for path in EXPECTED_FILES - {"./usr/bin/rtether"}:
        assert files[path] == ["-rw-r--r--", "root/root"], path

    assert field(deb, "Package") == "rtether"
    version = run([os.path.join(build_dir, "rtether"), "--version"]).stdout.split()[-1]
    assert field(deb, "Version") == version
    depends = field(deb, "Depends")
    # dpkg-shlibdeps: every library the binary links, with versions.
    for library in ["libc6", "libstdc++6", "libssl3", "libmnl0", "libsystemd0", "libfmt9"]:
        assert re.search(rf"(^|, ){re.escape(library)}( \(|,|$)", depends), depends
    assert field(deb, "Recommends") == "adb"
    conffiles = run(["dpkg-deb", "--info", deb, "conffiles"]).stdout.split()
    assert conffiles == ["/etc/default/rtether"]


def test_packaged_binary_is_the_built_one_stripped(unpacked, build_dir):
    packaged = os.path.join(unpacked, "usr/bin/rtether")
    built = os.path.join(build_dir, "rtether")
    assert run([packaged, "--version"]).stdout == run([built, "--version"]).stdout
    assert ".debug_info" not in run(["objdump", "-h", packaged]).stdout
    assert os.path.getsize(packaged) < os.path.getsize(built)


# --- systemd units ---------------------------------------------------------------

def overlay_installed(unpacked, script):
    """Runs `script` (sh) in a private mount namespace where the package's
    files are overlaid on /usr/bin, /usr/share/man/man1 and the unit folder,
    as if installed; the host's own view never changes."""
    mounts = []
    for folder in ["usr/bin", "usr/share/man/man1", "lib/systemd/system"]:
        mounts.append(f"mount -t overlay overlay -o lowerdir={unpacked}/{folder}:/{folder} "
                      f"/{folder}")
    return run(["unshare", "--mount", "--propagation", "private", "sh", "-ec",
                " && ".join(mounts + [script])], timeout=60)


def test_units_pass_systemd_analyze_verify(unpacked):
    # verify also checks that ExecStart's binary and man:rtether(1) exist.
    result = overlay_installed(unpacked, "cd / && systemd-analyze verify " + " ".join(UNITS))
    assert result.returncode == 0 and result.stdout + result.stderr == "", \
        result.stdout + result.stderr


# systemd's own exposure score (0 safest, 10 worst; "OK" up to 4.9) of each
# unit's sandbox: a bound on it keeps the hardening from eroding. What stays
# exposed is what the service needs: the host's network, CAP_NET_RAW, and for
# autorun adb's USB devices and netlink.
EXPOSURE_AT_MOST = {"rtether-relay.service": 1.4, "rtether-autorun.service": 1.8}


@pytest.mark.parametrize("unit", UNITS)
def test_units_keep_systemds_exposure_score_low(unpacked, unit):
    result = overlay_installed(unpacked, f"cd / && systemd-analyze security --offline=yes {unit}")
    match = re.search(rf"Overall exposure level for {re.escape(unit)}: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= EXPOSURE_AT_MOST[unit], result.stdout


def unit_settings(unpacked, unit):
    settings = {}
    with open(os.path.join(unpacked, "lib/systemd/system", unit)) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                key, value = line.rstrip("\n").split("=", 1)
                settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.parametrize("unit,command", [("rtether-relay.service", "relay"),
                                          ("rtether-autorun.service", "autorun")])
def test_units_are_notify_services_of_an_unprivileged_user(unpacked, unit, command):
    settings = unit_settings(unpacked, unit)
    assert settings["Type"] == ["notify"]
    variable = f"RTETHER_{command.upper()}_OPTIONS"
    assert settings["ExecStart"] == [f"/usr/bin/rtether {command} ${variable}"]
    assert settings["EnvironmentFile"] == ["-/etc/default/rtether"]
    for key, value in [("DynamicUser", "yes"), ("NoNewPrivileges", "yes"),
                       ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("CapabilityBoundingSet", "CAP_NET_RAW"),
                       ("AmbientCapabilities", "CAP_NET_RAW")]:
        assert settings[key] == [value], key
    with open(os.path.join(unpacked, "etc/default/rtether")) as f:
        assert re.search(rf'^{variable}=""$', f.read(), re.M)


# --- man page ----------------------------------------------------------------------

def rendered_man(unpacked):
    page = os.path.join(unpacked, "usr/share/man/man1/rtether.1.gz")
    result = run(["man", "--warnings", "-l", page],
                 env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
    return result


def test_man_page_renders_without_warnings(unpacked):
    result = rendered_man(unpacked)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith("RTETHER(1)")
    with gzip.open(os.path.join(unpacked, "usr/share/man/man1/rtether.1.gz"), "rt") as f:
        source = f.read()
    groff = run(["groff", "-man", "-ww", "-z", "-Tutf8"], input=source)
    assert groff.returncode == 0 and groff.stderr == "", groff.stderr


def man_sections(text):
    """The rendered page's subsections under COMMANDS, by heading (each with
    its heading, which names the commands and their positionals), and the
    GLOBAL OPTIONS section."""
    body = text.split("\nCOMMANDS\n", 1)[1].split("\nENVIRONMENT\n", 1)[0]
    sections = {}
    for chunk in re.split(r"\n(?=   rtether )", "\n" + body):
        if chunk.startswith("   rtether "):
            heading = chunk.partition("\n")[0].strip()
            sections[heading] = chunk
    sections["GLOBAL OPTIONS"] = text.split("\nGLOBAL OPTIONS\n", 1)[1].split("\nCOMMANDS\n")[0]
    return sections


def section_of(sections, command):
    found = [text for heading, text in sections.items()
             if command in re.split(r"[\s|]+", heading)[1:]]
    assert len(found) == 1, f"{command}: no single man page section ({list(sections)})"
    return found[0]


def test_man_page_names_every_command_and_option_of_the_help(unpacked, build_dir):
    rtether = os.path.join(build_dir, "rtether")
    text = rendered_man(unpacked).stdout
    sections = man_sections(text)
    for option in options(help_text(rtether)):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", sections["GLOBAL OPTIONS"]), \
            f"global option {option} is not in the man page"
    for command in commands(rtether):
        documented_in(section_of(sections, command), rtether, [command])


def documented_in(section, rtether, path):
    """Every option of `rtether PATH --help`, its serial and each of its
    subcommands (with theirs, recursively) are named in `section`."""
    help = help_text(rtether, *path)
    name = " ".join(["rtether"] + path)
    for option in options(help):
        if option in ("-h", "--help"):
            continue  # a global option, described once
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section), \
            f"{name} {option} is not in its man page section"
    if has_serial(help):
        assert "serial" in section, f"{name}'s serial is not in the man page"
    for subcommand in subcommands(help):
        assert re.search(rf"\b{re.escape(subcommand)}\b", section), \
            f"{name} {subcommand} is not in the man page"
        documented_in(section, rtether, path + [subcommand])


# --- bash completion ---------------------------------------------------------------

def complete(unpacked, line):
    """What bash completes for `line`, with the completion found where
    bash-completion's loader looks (XDG_DATA_DIRS) and the packaged rtether
    first in PATH."""
    script = """
source /usr/share/bash-completion/bash_completion
__load_completion rtether || exit 3
complete -p rtether
read -ra COMP_WORDS <<<"$LINE"
[[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$LINE
COMP_POINT=${#LINE}
_rtether
printf '%s\\n' "${COMPREPLY[@]}"
"""
    env = dict(os.environ, LINE=line, XDG_DATA_DIRS=os.path.join(unpacked, "usr/share"),
               PATH=os.path.join(unpacked, "usr/bin") + ":" + os.environ["PATH"])
    result = run(["bash", "--norc", "--noprofile", "-c", script], env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "complete -F _rtether rtether"
    return sorted(line for line in lines[1:] if line)  # printf prints "" for no reply


def test_bash_completion_completes_commands(unpacked, build_dir):
    assert complete(unpacked, "rtether re") == ["reinstall", "relay", "restart"]
    assert complete(unpacked, "rtether -v aut") == ["autorun", "autostart"]
    assert complete(unpacked, "rtether ") == sorted(commands(os.path.join(build_dir, "rtether")))


def test_bash_completion_completes_each_commands_options(unpacked):
    assert complete(unpacked, "rtether relay --bu") == ["--busy-poll-us"]
    assert complete(unpacked, "rtether client --no") == ["--no-ipv6"]
    assert "--status-interval" in complete(unpacked, "rtether autorun --")
    assert complete(unpacked, "rtether --ver") == ["--verbose", "--version"]
    assert complete(unpacked, "rtether relay -p 1 --no-") == ["--no-host-loopback", "--no-tcp"]
    assert complete(unpacked, "rtether relay ") == []  # no subcommands, no positionals


def test_bash_completion_completes_the_command_shell_runs(unpacked):
    assert "echo" in complete(unpacked, "rtether shell --mtu 1500 -- ech")


# --- install on a clean Debian 12 root -----------------------------------------------

def installed_packages():
    """binary:Package -> (name, Essential, Provides, Depends + Pre-Depends) of
    this host's installed packages of its own architecture (or all)."""
    native = run(["dpkg", "--print-architecture"]).stdout.strip()
    fields = "${binary:Package}\t${Package}\t${Architecture}\t${db:Status-Abbrev}\t" \
             "${Essential}\t${Provides}\t${Depends}, ${Pre-Depends}\n"
    packages = {}
    for line in run(["dpkg-query", "-W", "-f", fields]).stdout.splitlines():
        key, name, arch, status, essential, provides, depends = line.split("\t")
        if status.startswith("ii") and arch in (native, "all"):
            packages[name] = (key, essential == "yes", provides, depends)
    return packages


def names(relation_field):
    """'a (>= 1) | b, c:any' -> [['a', 'b'], ['c']]"""
    groups = []
    for group in relation_field.split(","):
        alternatives = [alt.strip().split(" ")[0].split(":")[0] for alt in group.split("|")]
        alternatives = [alt for alt in alternatives if alt]
        if alternatives:
            groups.append(alternatives)
    return groups


def closure(packages, wanted):
    """The installed packages `wanted` needs, recursively (the first
    installed alternative, or an installed package providing it)."""
    providers = {}
    for name, (_, _, provides, _) in packages.items():
        for group in names(provides):
            providers.setdefault(group[0], name)
    chosen, todo = set(), list(wanted)
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        chosen.add(name)
        for group in names(packages[name][3]):
            for alternative in group:
                found = alternative if alternative in packages else providers.get(alternative)
                if found:
                    todo.append(found)
                    break
            else:
                raise AssertionError(f"{name} needs one of {group}, none installed here")
    return chosen


def status_entries(keys):
    """The host's dpkg status stanzas of these packages, by (Package, Architecture)."""
    with open("/var/lib/dpkg/status") as f:
        stanzas = f.read().strip().split("\n\n")
    kept = []
    for stanza in stanzas:
        package = re.search(r"^Package: (\S+)$", stanza, re.M).group(1)
        arch = re.search(r"^Architecture: (\S+)$", stanza, re.M).group(1)
        if package in keys or f"{package}:{arch}" in keys:
            kept.append(stanza)
    return "\n\n".join(kept) + "\n"


def copy_package(key, root):
    for path in run(["dpkg-query", "-L", key]).stdout.splitlines():
        if not path.startswith("/") or not os.path.lexists(path):
            continue  # "diverted by" lines; files the image's dpkg excludes (docs)
        target = root + path
        if os.path.isdir(path) and not os.path.islink(path):
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            shutil.copy2(path, target, follow_symlinks=False)
    for suffix in ["list", "md5sums", "conffiles"]:
        info = f"/var/lib/dpkg/info/{key}.{suffix}"
        if os.path.exists(info):
            shutil.copy2(info, os.path.join(root, "var/lib/dpkg/info"))


def make_clean_root(root, deb):
    packages = installed_packages()
    essential = [name for name, (_, is_essential, _, _) in packages.items() if is_essential]
    wanted = essential + [group[0] for group in names(field(deb, "Depends"))]
    chosen = closure(packages, wanted)
    # The merged /usr of Debian 12 (as this host has it) before any file.
    for link in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]:
        if os.path.islink("/" + link):
            os.makedirs(os.path.join(root, "usr", link), exist_ok=True)
            os.symlink(os.readlink("/" + link), os.path.join(root, link))
    for folder in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers",
                   "tmp", "dev", "proc", "etc"]:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    keys = {packages[name][0] for name in chosen}
    for key in sorted(keys):
        copy_package(key, root)
    with open(os.path.join(root, "var/lib/dpkg/status"), "w") as f:
        f.write(status_entries(keys))
    open(os.path.join(root, "var/lib/dpkg/available"), "w").close()
    # base-passwd's postinst writes these from its masters.
    for name in ["passwd", "group"]:
        shutil.copy2(f"/usr/share/base-passwd/{name}.master", os.path.join(root, "etc", name))
    open(os.path.join(root, "dev/null"), "w").close()
    return chosen


def in_root(root, command, timeout=60):
    """`command` (sh) chrooted into root, with a clean environment and the
    host's /dev/null bound in (a mount namespace of its own)."""
    script = f"mount --bind /dev/null {root}/dev/null && exec chroot {root} /bin/sh -ec '{command}'"
    return run(["unshare", "--mount", "--propagation", "private", "sh", "-ec", script],
               timeout=timeout, env={"PATH": CLEAN_PATH, "LC_ALL": "C"})


def test_installs_on_a_clean_debian_12_root_and_runs_from_path(deb, workdir, build_dir):
    root = os.path.join(workdir, "root")
    chosen = make_clean_root(root, deb)
    assert "rtether" not in chosen and "adb" not in chosen and "libsystemd-dev" not in chosen
    assert not os.path.exists(os.path.join(root, "usr/bin/rtether"))
    shutil.copy2(deb, os.path.join(root, "tmp/rtether.deb"))

    installed = in_root(root, "dpkg -i /tmp/rtether.deb")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    version = in_root(root, "command -v rtether && rtether --version")
    expected = run([os.path.join(build_dir, "rtether"), "--version"]).stdout
    assert version.returncode == 0, version.stdout + version.stderr
    assert version.stdout == "/usr/bin/rtether\n" + expected
    status = in_root(root, "dpkg-query -W -f \"\\${db:Status-Abbrev}\" rtether && dpkg --verify "
                           "rtether")
    assert status.returncode == 0 and status.stdout.strip() == "ii", status.stdout + status.stderr

    # Removal leaves the conffile, purge takes it too.
    removed = in_root(root, "dpkg -r rtether")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not os.path.exists(os.path.join(root, "usr/bin/rtether"))
    assert os.path.exists(os.path.join(root, "etc/default/rtether"))
    purged = in_root(root, "dpkg -P rtether")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert not os.path.exists(os.path.join(root, "etc/default/rtether"))
