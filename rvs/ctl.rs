// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `rvs` generic netlink family and its handlers.
//!
//! Requests are validated by the family policy (types and lengths) and by
//! `rvs_core::ctl` (IPVS's rules) before the tables change; see
//! `service.rs` for how a refused command is kept from changing anything.


use kernel::{bindings, prelude::*};

use crate::genl::{
    DoIt, Dump, DumpIt, Family, Msg, Op, Permission as Perm, Policy, PolicyEntry as P,
    Request,
};
use crate::net::{AddrType, NetRef};
use crate::netns::{self, NetEntry};
use crate::rvs_core::abi::{self, cmd, cmd_attr, dest_attr, info_attr, stats_attr, svc_attr};
use crate::rvs_core::ctl::{
    self as core_ctl, errno, CtlError, DestSpec, ServiceSpec, TimeoutsUpdate, AF_INET, AF_INET6,
};
use crate::rvs_core::nla;
use core::sync::atomic::Ordering::Relaxed;

use crate::dest::Dest;
use crate::service::{NetState, Service, Tables};
use crate::stats::Stats;

static SVC_POLICY: Policy<{ svc_attr::MAX as usize + 1 }> = Policy([
    P::unspec(),
    P::u16(),         // AF
    P::u16(),         // PROTOCOL
    P::binary(16),    // ADDR
    P::u16(),         // PORT
    P::u32(),         // FWMARK
    P::string(15),    // SCHED_NAME
    P::binary(8),     // FLAGS
    P::u32(),         // TIMEOUT
    P::u32(),         // NETMASK
    P::reject(),      // STATS: output only
    P::string(15),    // PE_NAME
    P::reject(),      // STATS64: output only
]);

static DEST_POLICY: Policy<{ dest_attr::MAX as usize + 1 }> = Policy([
    P::unspec(),
    P::binary(16), // ADDR
    P::u16(),      // PORT
    P::u32(),      // FWD_METHOD
    P::u32(),      // WEIGHT
    P::u32(),      // U_THRESH
    P::u32(),      // L_THRESH
    P::u32(),      // ACTIVE_CONNS
    P::u32(),      // INACT_CONNS
    P::u32(),      // PERSIST_CONNS
    P::reject(),   // STATS: output only
    P::u16(),      // ADDR_FAMILY
    P::reject(),   // STATS64: output only
    P::u8(),       // TUN_TYPE
    P::u16(),      // TUN_PORT
    P::u16(),      // TUN_FLAGS
]);

static CMD_POLICY: Policy<{ cmd_attr::MAX as usize + 1 }> = Policy([
    P::unspec(),
    P::nested(&SVC_POLICY),  // SERVICE
    P::nested(&DEST_POLICY), // DEST
    P::nested(&DAEMON_POLICY), // DAEMON
    P::u32(),                // TIMEOUT_TCP
    P::u32(),                // TIMEOUT_TCP_FIN
    P::u32(),                // TIMEOUT_UDP
    P::reject(),             // CONN: output only
]);

static OPS: [Op; 18] = [
    Op::doit::<SetCmd<{ cmd::NEW_SERVICE }>>(cmd::NEW_SERVICE, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::SET_SERVICE }>>(cmd::SET_SERVICE, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::DEL_SERVICE }>>(cmd::DEL_SERVICE, Perm::NetAdmin),
    Op::doit_dumpit::<GetService, DumpServices>(cmd::GET_SERVICE, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::NEW_DEST }>>(cmd::NEW_DEST, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::SET_DEST }>>(cmd::SET_DEST, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::DEL_DEST }>>(cmd::DEL_DEST, Perm::NetAdmin),
    Op::dumpit::<DumpDests>(cmd::GET_DEST, Perm::NetAdmin),
    Op::doit::<Daemon>(cmd::NEW_DAEMON, Perm::NetAdmin),
    Op::doit::<Daemon>(cmd::DEL_DAEMON, Perm::NetAdmin),
    Op::dumpit::<DumpDaemons>(cmd::GET_DAEMON, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::SET_CONFIG }>>(cmd::SET_CONFIG, Perm::NetAdmin),
    Op::doit::<GetConfig>(cmd::GET_CONFIG, Perm::NetAdmin),
    Op::doit::<GetInfo>(cmd::GET_INFO, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::ZERO }>>(cmd::ZERO, Perm::NetAdmin),
    Op::doit::<SetCmd<{ cmd::FLUSH }>>(cmd::FLUSH, Perm::NetAdmin),
    Op::dumpit::<DumpConns>(cmd::GET_CONN, Perm::NetAdmin),
    Op::doit::<Daemon>(cmd::RESYNC_DAEMON, Perm::NetAdmin),
];

/// The `rvs` family, version [`abi::FAMILY_VERSION`].
pub(crate) static FAMILY: Family = Family::const_new(
    kernel::module::this_module::<crate::LocalModule>(),
    abi::FAMILY_NAME_NUL,
    abi::FAMILY_VERSION,
    &CMD_POLICY,
    &OPS,
    // Strict validation for every operation: a new family has no legacy
    // senders to be lenient with.
    0,
);

// --- The kernel IPVS family (`ipvs_abi=1`): the same handlers behind
// IPVS's name, policy and permission, for ipvsadm, keepalived and every
// other tool that speaks include/uapi/linux/ip_vs.h. ---

static DAEMON_POLICY: Policy<{ abi::daemon_attr::MAX as usize + 1 }> = Policy([
    P::unspec(),
    P::u32(),       // STATE
    P::string(15),  // MCAST_IFN
    P::u32(),       // SYNC_ID
    P::u16(),       // SYNC_MAXLEN
    P::u32(),       // MCAST_GROUP
    P::binary(16),  // MCAST_GROUP6
    P::u16(),       // MCAST_PORT
    P::u8(),        // MCAST_TTL
    // rvs's counters: output only.
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
    P::reject(),
]);

/// IPVS's command attributes end at TIMEOUT_UDP.
static IPVS_CMD_POLICY: Policy<{ cmd_attr::TIMEOUT_UDP as usize + 1 }> = Policy([
    P::unspec(),
    P::nested(&SVC_POLICY),    // SERVICE
    P::nested(&DEST_POLICY),   // DEST
    P::nested(&DAEMON_POLICY), // DAEMON
    P::u32(),                  // TIMEOUT_TCP
    P::u32(),                  // TIMEOUT_TCP_FIN
    P::u32(),                  // TIMEOUT_UDP
]);

/// IPVS's operations: admin in the initial user namespace, lenient
/// validation, no connection dump (IPVS lists connections in /proc).
static IPVS_OPS: [Op; 16] = [
    Op::doit::<SetCmd<{ cmd::NEW_SERVICE }>>(cmd::NEW_SERVICE, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::SET_SERVICE }>>(cmd::SET_SERVICE, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::DEL_SERVICE }>>(cmd::DEL_SERVICE, Perm::Admin).lenient(),
    Op::doit_dumpit::<GetService, DumpServices>(cmd::GET_SERVICE, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::NEW_DEST }>>(cmd::NEW_DEST, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::SET_DEST }>>(cmd::SET_DEST, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::DEL_DEST }>>(cmd::DEL_DEST, Perm::Admin).lenient(),
    Op::dumpit::<DumpDests>(cmd::GET_DEST, Perm::Admin).lenient(),
    Op::doit::<Daemon>(cmd::NEW_DAEMON, Perm::Admin).lenient(),
    Op::doit::<Daemon>(cmd::DEL_DAEMON, Perm::Admin).lenient(),
    Op::dumpit::<DumpDaemons>(cmd::GET_DAEMON, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::SET_CONFIG }>>(cmd::SET_CONFIG, Perm::Admin).lenient(),
    Op::doit::<GetConfig>(cmd::GET_CONFIG, Perm::Admin).lenient(),
    Op::doit::<GetInfo>(cmd::GET_INFO, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::ZERO }>>(cmd::ZERO, Perm::Admin).lenient(),
    Op::doit::<SetCmd<{ cmd::FLUSH }>>(cmd::FLUSH, Perm::Admin).lenient(),
];

/// The `IPVS` family, version 1, registered when `ipvs_abi=1`.
pub(crate) static IPVS_FAMILY: Family = Family::const_new(
    kernel::module::this_module::<crate::LocalModule>(),
    abi::IPVS_FAMILY_NAME_NUL,
    abi::IPVS_FAMILY_VERSION,
    &IPVS_CMD_POLICY,
    &IPVS_OPS,
    // As IPVS: its commands (up to FLUSH) keep the lenient validation of
    // the genetlink they were written for.
    cmd::FLUSH + 1,
);

/// Turns a control-plane refusal into errno plus extack message.
fn refuse(req: &mut Request<'_>, e: CtlError) -> Error {
    if let Ok(m) = CStr::from_bytes_with_nul(e.msg.as_bytes()) {
        req.set_err_msg(m);
    }
    Error::from_errno(-e.errno)
}

fn state<'a>(net: NetRef<'a>) -> Result<&'a NetState> {
    netns::state(net).ok_or(ENODEV)
}

/// IPVS accepts a real server address only if it is unicast (or local).
fn check_dest_addr(net: NetRef<'_>, spec: &DestSpec) -> Result<(), CtlError> {
    let a = &spec.key.addr;
    let ok = if spec.key.af == AF_INET6 {
        core_ctl::ipv6_is_unicast(a) || net.ipv6_addr_is_local(a)
    } else {
        matches!(net.ipv4_addr_type([a[0], a[1], a[2], a[3]]), AddrType::Unicast | AddrType::Local)
    };
    if ok {
        Ok(())
    } else {
        Err(CtlError {
            errno: errno::EINVAL,
            msg: "real server address must be unicast\0",
        })
    }
}

/// The changing commands, as IPVS's `ip_vs_genl_set_cmd`.
struct SetCmd<const CMD: u8>;

impl<const CMD: u8> DoIt for SetCmd<CMD> {
    fn doit(req: &mut Request<'_>) -> Result {
        let net = req.net();
        let st = state(net)?;
        let mut tables = st.tables.lock();
        match set_cmd(CMD, req, net, st, &mut tables) {
            Ok(()) => Ok(()),
            Err(e) => Err(refuse(req, e)),
        }
    }
}

fn set_cmd(
    cmd: u8,
    req: &Request<'_>,
    net: NetRef<'_>,
    st: &NetState,
    t: &mut Tables,
) -> Result<(), CtlError> {
    let svc_attr = req.attr(cmd_attr::SERVICE);
    match cmd {
        cmd::FLUSH => {
            st.flush(t);
            return Ok(());
        }
        cmd::SET_CONFIG => {
            let get = |a| req.attr(a).and_then(nla::get_u32);
            let upd = TimeoutsUpdate {
                tcp: get(cmd_attr::TIMEOUT_TCP),
                tcp_fin: get(cmd_attr::TIMEOUT_TCP_FIN),
                udp: get(cmd_attr::TIMEOUT_UDP),
            };
            core_ctl::check_timeouts(&upd)?;
            st.timeouts.set(&upd);
            return Ok(());
        }
        cmd::ZERO if svc_attr.is_none() => return st.zero(t, None),
        _ => {}
    }
    let full_svc = cmd == cmd::NEW_SERVICE || cmd == cmd::SET_SERVICE;
    let spec = core_ctl::parse_service(svc_attr, full_svc)?;
    let svc_af = spec.key.af;
    apply(cmd, net, st, t, spec, || match cmd {
        cmd::NEW_DEST | cmd::SET_DEST | cmd::DEL_DEST => Ok(Some(core_ctl::parse_dest(
            req.attr(cmd_attr::DEST),
            svc_af,
            cmd != cmd::DEL_DEST,
        )?)),
        _ => Ok(None),
    })
}

/// Applies service or real-server command `cmd` (a netlink command
/// number; the socket options map theirs to these) to `spec`'s service,
/// in IPVS's order: the service must exist unless it is being added, and
/// only then is the real server (`dest`) looked at.
pub(crate) fn apply(
    cmd: u8,
    net: NetRef<'_>,
    st: &NetState,
    t: &mut Tables,
    spec: ServiceSpec,
    dest: impl FnOnce() -> Result<Option<DestSpec>, CtlError>,
) -> Result<(), CtlError> {
    let svc_af = spec.key.af;
    if cmd != cmd::NEW_SERVICE && t.services.get(&spec.key).is_none() {
        return Err(CtlError {
            errno: errno::ESRCH,
            msg: "no such service\0",
        });
    }
    let dest = dest()?;
    let adds_v6 = match (cmd, &dest) {
        (cmd::NEW_SERVICE, _) => svc_af == AF_INET6,
        (cmd::NEW_DEST, Some(d)) => d.key.af == AF_INET6,
        _ => false,
    };
    if adds_v6 {
        netns::enable_defrag6(net, st)?;
    }
    match (cmd, spec.conf, dest) {
        (cmd::NEW_SERVICE, Some(conf), _) => st.add_service(t, spec.key, &conf),
        (cmd::SET_SERVICE, Some(conf), _) => st.edit_service(t, &spec.key, &conf),
        (cmd::DEL_SERVICE, _, _) => st.del_service(t, &spec.key),
        (cmd::NEW_DEST, _, Some(d)) => {
            check_dest_addr(net, &d)?;
            st.add_dest(t, &spec.key, d.key, d.conf.ok_or(EINVAL_SPEC)?)
        }
        (cmd::SET_DEST, _, Some(d)) => {
            st.edit_dest(t, &spec.key, &d.key, d.conf.ok_or(EINVAL_SPEC)?)
        }
        (cmd::DEL_DEST, _, Some(d)) => st.del_dest(t, &spec.key, &d.key),
        (cmd::ZERO, _, _) => st.zero(t, Some(&spec.key)),
        _ => Err(EINVAL_SPEC),
    }
}

const EINVAL_SPEC: CtlError = CtlError {
    errno: errno::EINVAL,
    msg: "incomplete request\0",
};

/// Puts a nested STATS (32-bit, as IPVS truncates) and STATS64 set.
fn put_stats(msg: &mut Msg<'_>, kind32: u16, kind64: u16, st: &Stats) -> Result {
    let (s, r) = st.read();
    let fields = [
        (stats_attr::CONNS, s.conns),
        (stats_attr::INPKTS, s.inpkts),
        (stats_attr::OUTPKTS, s.outpkts),
        (stats_attr::INBYTES, s.inbytes),
        (stats_attr::OUTBYTES, s.outbytes),
        (stats_attr::CPS, r.cps),
        (stats_attr::INPPS, r.inpps),
        (stats_attr::OUTPPS, r.outpps),
        (stats_attr::INBPS, r.inbps),
        (stats_attr::OUTBPS, r.outbps),
    ];
    msg.nested(kind32, |m| {
        for (k, v) in fields {
            if k == stats_attr::INBYTES || k == stats_attr::OUTBYTES {
                m.put_u64(k, v, stats_attr::PAD)?;
            } else {
                m.put_u32(k, v as u32)?;
            }
        }
        Ok(())
    })?;
    msg.nested(kind64, |m| {
        for (k, v) in fields {
            m.put_u64(k, v, stats_attr::PAD)?;
        }
        Ok(())
    })
}

fn addr_len(af: u16) -> usize {
    if af == AF_INET6 {
        16
    } else {
        4
    }
}

fn put_service(msg: &mut Msg<'_>, svc: &Service) -> Result {
    msg.nested(cmd_attr::SERVICE, |m| {
        let k = &svc.key;
        m.put_u16(svc_attr::AF, k.af)?;
        if k.fwmark != 0 {
            m.put_u32(svc_attr::FWMARK, k.fwmark)?;
        } else {
            m.put_u16(svc_attr::PROTOCOL, k.protocol)?;
            m.put_bytes(svc_attr::ADDR, &k.addr[..addr_len(k.af)])?;
            m.put_bytes(svc_attr::PORT, &k.port.to_be_bytes())?;
        }
        let mut name = [0u8; abi::SCHED_NAME_MAXLEN];
        let n = svc.sched_kind().name().as_bytes();
        name[..n.len()].copy_from_slice(n);
        m.put_bytes(svc_attr::SCHED_NAME, &name[..=n.len()])?;
        let mut flags = [0u8; 8];
        let f = svc.flags.load(Relaxed) | abi::svc_flags::HASHED;
        flags[..4].copy_from_slice(&f.to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        m.put_bytes(svc_attr::FLAGS, &flags)?;
        m.put_u32(svc_attr::TIMEOUT, svc.timeout.load(Relaxed))?;
        m.put_u32(svc_attr::NETMASK, svc.netmask.load(Relaxed))?;
        put_stats(m, svc_attr::STATS, svc_attr::STATS64, &svc.stats)
    })
}

fn put_dest(msg: &mut Msg<'_>, d: &Dest) -> Result {
    msg.nested(cmd_attr::DEST, |m| {
        m.put_bytes(dest_attr::ADDR, &d.key.addr[..addr_len(d.key.af)])?;
        m.put_bytes(dest_attr::PORT, &d.key.port.to_be_bytes())?;
        m.put_u32(dest_attr::FWD_METHOD, d.fwd.load(Relaxed))?;
        m.put_u32(dest_attr::WEIGHT, d.weight.load(Relaxed) as u32)?;
        let tun = d.tunnel();
        m.put_bytes(dest_attr::TUN_TYPE, &[tun.kind()])?;
        m.put_bytes(dest_attr::TUN_PORT, &tun.port.to_be_bytes())?;
        m.put_u16(dest_attr::TUN_FLAGS, tun.flags)?;
        m.put_u32(dest_attr::U_THRESH, d.u_threshold.load(Relaxed))?;
        m.put_u32(dest_attr::L_THRESH, d.l_threshold.load(Relaxed))?;
        m.put_u32(dest_attr::ACTIVE_CONNS, d.active_conns.load(Relaxed))?;
        m.put_u32(dest_attr::INACT_CONNS, d.inact_conns.load(Relaxed))?;
        m.put_u32(dest_attr::PERSIST_CONNS, d.persist_conns.load(Relaxed))?;
        m.put_u16(dest_attr::ADDR_FAMILY, d.key.af)?;
        put_stats(m, dest_attr::STATS, dest_attr::STATS64, &d.stats)
    })
}

/// GET_SERVICE for one service.
struct GetService;

impl DoIt for GetService {
    fn doit(req: &mut Request<'_>) -> Result {
        let st = state(req.net())?;
        let spec = match core_ctl::parse_service(req.attr(cmd_attr::SERVICE), false) {
            Ok(s) => s,
            Err(e) => return Err(refuse(req, e)),
        };
        let tables = st.tables.lock();
        let Some(svc) = tables.services.get(&spec.key) else {
            return Err(refuse(
                req,
                CtlError {
                    errno: errno::ESRCH,
                    msg: "no such service\0",
                },
            ));
        };
        req.reply(cmd::NEW_SERVICE, |m| put_service(m, svc))
    }
}

/// GET_SERVICE dump: every service; `cursor[0]` counts those sent.
struct DumpServices;

impl DumpIt for DumpServices {
    fn dumpit(dump: &mut Dump<'_>, cursor: &mut [i64; 4]) -> Result<bool> {
        let st = state(dump.net())?;
        let tables = st.tables.lock();
        dump_from(dump, cursor, tables.services.values(), cmd::NEW_SERVICE, |m, s| put_service(m, s))
    }
}

/// Sends `items` as `cmd` entries, from where the last part of the dump
/// stopped (`cursor[0]` counts those sent); `false` when the part is full.
fn dump_from<'a, T: 'a>(
    dump: &mut Dump<'_>,
    cursor: &mut [i64; 4],
    items: impl Iterator<Item = &'a T>,
    cmd: u8,
    put: impl Fn(&mut Msg<'_>, &T) -> Result,
) -> Result<bool> {
    let skip = usize::try_from(cursor[0]).unwrap_or(0);
    for item in items.skip(skip) {
        if !dump.entry(cmd, |m| put(m, item))? {
            return Ok(false);
        }
        cursor[0] += 1;
    }
    Ok(true)
}

/// GET_DEST dump: the real servers of the service in the request.
struct DumpDests;

impl DumpIt for DumpDests {
    fn dumpit(dump: &mut Dump<'_>, cursor: &mut [i64; 4]) -> Result<bool> {
        let st = state(dump.net())?;
        let spec = core_ctl::parse_service(dump.attr(cmd_attr::SERVICE), false)
            .map_err(|e| Error::from_errno(-e.errno))?;
        let dests = {
            let tables = st.tables.lock();
            tables.services.get(&spec.key).ok_or(ESRCH)?.dests()?
        };
        dump_from(dump, cursor, dests.iter(), cmd::NEW_DEST, |m, d| put_dest(m, d))
    }
}

/// NEW_DAEMON / DEL_DAEMON / RESYNC_DAEMON: the connection sync daemons,
/// as IPVS's `ip_vs_genl_set_daemon` (see `sync.rs`).
struct Daemon;

impl DoIt for Daemon {
    fn doit(req: &mut Request<'_>) -> Result {
        let net = req.net();
        let ns = netns::entry(net).ok_or(ENODEV)?;
        match daemon_cmd(req, net, ns) {
            Ok(()) => Ok(()),
            Err(e) => Err(refuse(req, e)),
        }
    }
}

fn daemon_cmd(req: &Request<'_>, net: NetRef<'_>, ns: &NetEntry) -> Result<(), CtlError> {
    let sync = &ns.sync;
    use crate::rvs_core::abi::daemon_attr as da;
    let Some(nest) = req.attr(cmd_attr::DAEMON) else {
        return Err(CtlError { errno: errno::EINVAL, msg: "missing daemon attributes\0" });
    };
    let attrs = nla::parse::<{ da::MAX as usize + 1 }>(nest).map_err(|_| EINVAL_SPEC)?;
    let get = |kind: u16| attrs.get(usize::from(kind)).copied().flatten();
    let state = get(da::STATE).and_then(nla::get_u32);
    match req.cmd() {
        cmd::NEW_DAEMON => {
            let (Some(state), Some(ifn), Some(syncid)) =
                (state, get(da::MCAST_IFN), get(da::SYNC_ID).and_then(nla::get_u32))
            else {
                return Err(CtlError {
                    errno: errno::EINVAL,
                    msg: "daemon state, multicast interface and sync id are required\0",
                });
            };
            let mut cfg = crate::sync::DaemonConfig::new(ifn, syncid);
            if let Some(v) = get(da::SYNC_MAXLEN).and_then(nla::get_u16) {
                cfg.maxlen = v;
            }
            if let Some(g) = get(da::MCAST_GROUP) {
                let g = g.get(..4).ok_or(EINVAL_SPEC)?;
                if g[0] & 0xf0 != 0xe0 {
                    return Err(CtlError { errno: errno::EINVAL, msg: "not a multicast group\0" });
                }
                cfg.group[..4].copy_from_slice(g);
            } else if let Some(g) = get(da::MCAST_GROUP6) {
                let g = g.get(..16).ok_or(EINVAL_SPEC)?;
                if g[0] != 0xff {
                    return Err(CtlError { errno: errno::EINVAL, msg: "not a multicast group\0" });
                }
                cfg.v6 = true;
                cfg.group.copy_from_slice(g);
            }
            if let Some(v) = get(da::MCAST_PORT).and_then(nla::get_u16) {
                cfg.port = v;
            }
            if let Some(v) = get(da::MCAST_TTL).and_then(|a| a.first().copied()) {
                cfg.ttl = v;
            }
            ns.start_daemon(net, cfg, state)
        }
        cmd::DEL_DAEMON => sync.stop(state.ok_or(EINVAL_SPEC)?),
        _ => sync.resync(state.ok_or(EINVAL_SPEC)?),
    }
}

/// GET_DAEMON dump: the running daemons, master first, with every
/// effective setting (and, in the `rvs` family, their counters).
struct DumpDaemons;

impl DumpIt for DumpDaemons {
    fn dumpit(dump: &mut Dump<'_>, cursor: &mut [i64; 4]) -> Result<bool> {
        use crate::rvs_core::abi::daemon_attr as da;
        let sync = &netns::entry(dump.net()).ok_or(ENODEV)?.sync;
        let with_counters = !dump.family().is(&IPVS_FAMILY);
        let mut n = 0i64;
        let mut done = true;
        sync.list(|kind, cfg, c| {
            n += 1;
            if n <= cursor[0] || !done {
                return Ok(());
            }
            let fits = dump.entry(cmd::NEW_DAEMON, |m| {
                m.nested(cmd_attr::DAEMON, |m| {
                    m.put_u32(da::STATE, kind)?;
                    let mut ifn = [0u8; 16];
                    let name = cfg.ifname();
                    ifn[..name.len()].copy_from_slice(name);
                    m.put_bytes(da::MCAST_IFN, &ifn[..=name.len()])?;
                    m.put_u32(da::SYNC_ID, cfg.syncid)?;
                    m.put_u16(da::SYNC_MAXLEN, cfg.maxlen)?;
                    m.put_u16(da::MCAST_PORT, cfg.port)?;
                    m.put_bytes(da::MCAST_TTL, &[cfg.ttl])?;
                    if cfg.v6 {
                        m.put_bytes(da::MCAST_GROUP6, &cfg.group)?;
                    } else {
                        m.put_bytes(da::MCAST_GROUP, &cfg.group[..4])?;
                    }
                    if with_counters {
                        let fields = [
                            (da::DATAGRAMS, &c.datagrams),
                            (da::ENTRIES, &c.entries),
                            (da::DROP_QUEUE_FULL, &c.drop_queue_full),
                            (da::DROP_SEND_ERROR, &c.drop_send_error),
                            (da::DROP_BAD_DATAGRAM, &c.drop_bad_datagram),
                            (da::DROP_BAD_ENTRY, &c.drop_bad_entry),
                            (da::DROP_SYNCID, &c.drop_syncid),
                            (da::DROP_NO_ROOM, &c.drop_no_room),
                            (da::LOST_DATAGRAMS, &c.lost),
                            (da::RESYNCS, &c.resyncs),
                        ];
                        for (k, v) in fields {
                            m.put_u64(k, v.load(Relaxed), da::PAD)?;
                        }
                        m.put_u32(da::LAST_SEQ, c.last_seq.load(Relaxed))?;
                        m.put_u32(da::RESYNC_PENDING, c.resync_pending.load(Relaxed))?;
                    }
                    Ok(())
                })
            })?;
            if fits {
                cursor[0] = n;
            } else {
                done = false;
            }
            Ok(())
        })?;
        Ok(done)
    }
}

/// GET_CONN dump: the connection table (and persistence templates);
/// `cursor[0]` is the bucket to resume at, `cursor[1]` the entry in it.
struct DumpConns;

impl DumpIt for DumpConns {
    fn dumpit(dump: &mut Dump<'_>, cursor: &mut [i64; 4]) -> Result<bool> {
        use crate::kernel_services::jiffies;
        use crate::rvs_core::abi::conn_attr as ca;
        let st = state(dump.net())?;
        let now = jiffies();
        let from = (
            usize::try_from(cursor[0]).unwrap_or(usize::MAX),
            u64::try_from(cursor[1]).unwrap_or(u64::MAX),
        );
        let mut failed = None;
        let rcu = crate::rcu::read_lock();
        let stopped = {
            st.conns.for_each_from(&rcu, from, |c| {
                let name = c.state_name();
                let mut state = [0u8; 16];
                let n = name.len().min(15);
                state[..n].copy_from_slice(&name.as_bytes()[..n]);
                let r = dump.entry(cmd::NEW_DEST, |m| {
                    m.nested(cmd_attr::CONN, |m| {
                        m.put_u16(ca::AF, c.af)?;
                        m.put_u16(ca::PROTOCOL, u16::from(c.protocol))?;
                        m.put_bytes(ca::CADDR, &c.caddr)?;
                        m.put_bytes(ca::CPORT, &c.cport.to_be_bytes())?;
                        m.put_bytes(ca::VADDR, &c.vaddr)?;
                        m.put_bytes(ca::VPORT, &c.vport.to_be_bytes())?;
                        m.put_bytes(ca::DADDR, &c.daddr)?;
                        m.put_bytes(ca::DPORT, &c.dport.to_be_bytes())?;
                        m.put_u16(ca::DEST_AF, c.daf)?;
                        m.put_bytes(ca::STATE, &state[..=n])?;
                        m.put_u32(ca::EXPIRES_MS, c.expires_in_ms(now))?;
                        m.put_u32(ca::FLAGS, c.flags.load(Relaxed))?;
                        m.put_u32(ca::FWMARK, c.fwmark)
                    })
                });
                match r {
                    Ok(fits) => fits,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            })
        };
        if let Some(e) = failed {
            return Err(e);
        }
        match stopped {
            Some((bucket, pos)) => {
                cursor[0] = i64::try_from(bucket).unwrap_or(i64::MAX);
                cursor[1] = i64::try_from(pos).unwrap_or(i64::MAX);
                Ok(false)
            }
            None => Ok(true),
        }
    }
}

/// GET_CONFIG: the connection timeouts.
struct GetConfig;

impl DoIt for GetConfig {
    fn doit(req: &mut Request<'_>) -> Result {
        let st = state(req.net())?;
        let (tcp, fin, udp) = st.timeouts.get();
        req.reply(cmd::SET_CONFIG, |m| {
            m.put_u32(cmd_attr::TIMEOUT_TCP, tcp)?;
            m.put_u32(cmd_attr::TIMEOUT_TCP_FIN, fin)?;
            m.put_u32(cmd_attr::TIMEOUT_UDP, udp)
        })
    }
}

/// GET_INFO: the IPVS protocol version, the connection table size and the
/// module's own version.
struct GetInfo;

impl DoIt for GetInfo {
    fn doit(req: &mut Request<'_>) -> Result {
        let is_ipvs = req.family().is(&IPVS_FAMILY);
        req.reply(cmd::SET_INFO, |msg| {
            msg.put_u32(info_attr::VERSION, abi::IPVS_VERSION_CODE)?;
            msg.put_u32(info_attr::CONN_TAB_SIZE, crate::conn_tab_size())?;
            if is_ipvs {
                // IPVS's answer has exactly these two.
                return Ok(());
            }
            msg.put_str(info_attr::MODULE_VERSION, crate::MODULE_VERSION)
        })
    }
}

const _: () = assert!(AF_INET == bindings::AF_INET as u16 && AF_INET6 == bindings::AF_INET6 as u16);
