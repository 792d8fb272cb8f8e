/**
 * The CIS Docker Benchmark 1.6 section 5 (container runtime) checks that can be read from
 * `docker inspect` of a running container and `docker info` of its engine, as docker-bench-security
 * makes them. Each check says pass, fail or n/a with why; the operational ones (what people type
 * later) are n/a by nature.
 */

/** One check's verdict on one container. */
export interface CisResult {
  readonly id: string;
  readonly title: string;
  readonly status: "pass" | "fail" | "n/a";
  readonly why: string;
}

/** The parts of `docker inspect <container>` the checks read. */
export interface Inspected {
  readonly Name: string;
  readonly AppArmorProfile?: string;
  readonly State: { readonly Health?: { readonly Status: string } };
  readonly Config: { readonly ExposedPorts?: Record<string, unknown> | null };
  readonly HostConfig: Record<string, any>;
  readonly Mounts: readonly { readonly Type: string; readonly Source: string; readonly Destination: string; readonly Propagation?: string }[];
  readonly NetworkSettings: { readonly Networks: Record<string, unknown> };
}

const SENSITIVE = ["/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr"];

/** The verdicts on one container. `ports` are the host ports it must publish (none for a service, whose ports the stack's ports publish); `info` is `docker info`'s JSON. */
export function cisSection5(c: Inspected, ports: readonly number[], info: { Swarm?: { LocalNodeState?: string }; SecurityOptions?: string[] }): CisResult[] {
  const h = c.HostConfig;
  const bindings = Object.values((h.PortBindings ?? {}) as Record<string, { HostIp: string; HostPort: string }[] | null>).flat().filter(Boolean) as { HostIp: string; HostPort: string }[];
  const check = (id: string, title: string, ok: boolean, why: string): CisResult => ({ id, title, status: ok ? "pass" : "fail", why });
  const na = (id: string, title: string, why: string): CisResult => ({ id, title, status: "n/a", why });
  const apparmor = (info.SecurityOptions ?? []).some((o) => o.includes("apparmor"));
  const selinux = (info.SecurityOptions ?? []).some((o) => o.includes("selinux"));
  return [
    check("5.1", "swarm mode not enabled", (info.Swarm?.LocalNodeState ?? "inactive") === "inactive", `swarm ${info.Swarm?.LocalNodeState ?? "inactive"}`),
    apparmor ? check("5.2", "AppArmor profile", !!c.AppArmorProfile && c.AppArmorProfile !== "unconfined", `profile ${c.AppArmorProfile || "none"}`) : na("5.2", "AppArmor profile", "the engine's host has no AppArmor"),
    selinux ? check("5.3", "SELinux options", (h.SecurityOpt ?? []).some((o: string) => o.startsWith("label")), "label options") : na("5.3", "SELinux options", "the engine's host has no SELinux"),
    check("5.4", "capabilities restricted", (h.CapDrop ?? []).includes("ALL") && !(h.CapAdd ?? []).length, `drop ${JSON.stringify(h.CapDrop)}, add ${JSON.stringify(h.CapAdd)}`),
    check("5.5", "not privileged", h.Privileged === false, `privileged ${h.Privileged}`),
    check("5.6", "no sensitive host directories mounted", !c.Mounts.some((m) => m.Type === "bind" && SENSITIVE.includes(m.Source)), c.Mounts.map((m) => `${m.Type}:${m.Source || "-"}`).join(" ")),
    na("5.7", "sshd not run in containers", "checked on the image: no sshd is installed (images carry python3 and tini only)"),
    check("5.8", "no privileged host ports", bindings.every((b) => Number(b.HostPort) >= 1024), bindings.map((b) => b.HostPort).join(" ")),
    check("5.9", "only needed ports open", bindings.length === ports.length && bindings.every((b) => ports.includes(Number(b.HostPort))), `published ${bindings.map((b) => b.HostPort).join(" ")}, needed ${ports.join(" ")}`),
    check("5.10", "host network not shared", h.NetworkMode !== "host", `network ${h.NetworkMode}`),
    check("5.11", "memory limited", h.Memory > 0, `memory ${h.Memory}`),
    check("5.12", "CPU priority set", h.CpuShares > 0 && h.CpuShares !== 1024, `cpu shares ${h.CpuShares}`),
    check("5.13", "root filesystem read-only", h.ReadonlyRootfs === true, `read-only ${h.ReadonlyRootfs}`),
    check("5.14", "ports bound to one host interface", bindings.every((b) => b.HostIp && b.HostIp !== "0.0.0.0"), bindings.map((b) => b.HostIp).join(" ")),
    check("5.15", "restart policy on-failure, at most 5", h.RestartPolicy?.Name === "on-failure" && h.RestartPolicy.MaximumRetryCount <= 5, `restart ${h.RestartPolicy?.Name}`),
    check("5.16", "host PID namespace not shared", h.PidMode !== "host", `pid ${h.PidMode || "private"}`),
    check("5.17", "host IPC namespace not shared", h.IpcMode !== "host", `ipc ${h.IpcMode}`),
    check("5.18", "host devices not exposed", !(h.Devices ?? []).length, `devices ${JSON.stringify(h.Devices)}`),
    check("5.19", "default ulimits kept", !(h.Ulimits ?? []).length, `ulimits ${JSON.stringify(h.Ulimits)}`),
    check("5.20", "mount propagation not shared", !c.Mounts.some((m) => /shared/.test(m.Propagation ?? "")), c.Mounts.map((m) => m.Propagation || "-").join(" ")),
    check("5.21", "host UTS namespace not shared", h.UTSMode !== "host", `uts ${h.UTSMode || "private"}`),
    check("5.22", "default seccomp profile not disabled", !(h.SecurityOpt ?? []).some((o: string) => /seccomp[=:]unconfined/.test(o)), `security ${JSON.stringify(h.SecurityOpt)}`),
    na("5.23", "docker exec --privileged not used", "operational: about commands people run later"),
    na("5.24", "docker exec --user=root not used", "operational: about commands people run later"),
    check("5.25", "cgroup usage confirmed", !h.CgroupParent, `cgroup parent ${h.CgroupParent || "default"}`),
    check("5.26", "no-new-privileges", (h.SecurityOpt ?? []).some((o: string) => /^no-new-privileges(:true)?$/.test(o)), `security ${JSON.stringify(h.SecurityOpt)}`),
    check("5.27", "health checked at runtime", !!c.State.Health, `health ${c.State.Health?.Status}`),
    na("5.28", "docker commands use the latest image version", "operational; the fleet pins every image by digest"),
    check("5.29", "PIDs cgroup limit", h.PidsLimit > 0, `pids limit ${h.PidsLimit}`),
    check("5.30", "docker0 bridge not used", !Object.keys(c.NetworkSettings.Networks).includes("bridge"), `networks ${Object.keys(c.NetworkSettings.Networks).join(" ")}`),
    check("5.31", "host user namespace not shared", h.UsernsMode !== "host", `userns ${h.UsernsMode || "default"}`),
    check("5.32", "Docker socket not mounted", !c.Mounts.some((m) => /docker\.sock$/.test(m.Source)), c.Mounts.map((m) => m.Source).join(" ")),
  ];
}

/**
 * The one section 5 check the fleet does not pass, on purpose: on-failure would leave a service
 * that exits 0 on SIGTERM down after an engine restart (see containerBasics in components/runSpec.ts).
 */
export const DELIBERATE: Readonly<Record<string, string>> = {
  "5.15": "restart unless-stopped: on-failure leaves a service that exited 0 on the engine's SIGTERM down after a reboot",
};
