// SPDX-License-Identifier: GPL-2.0

//! IPVS's socket-option interface under `ipvs_abi=1` (`IP_VS_SO_SET_*` and
//! `IP_VS_SO_GET_*` on any IPv4 socket): what ipvsadm falls back to without
//! the netlink family and what collectd's ipvs plugin reads. The C stubs
//! of the option table in `rvs_helpers.c` call the two entries here;
//! [`rvs_core::sockopt`] parses and encodes IPVS's structures, and the
//! tables change through the same functions as the netlink families'
//! (`ctl.rs`). The interface carries errno alone: it has no extack.

use core::ffi::{c_int, c_uint, c_void};
use core::ptr::NonNull;
use core::sync::atomic::Ordering::Relaxed;

use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice};

use crate::ctl;
use crate::dest::Dest;
use crate::net::NetRef;
use crate::netns::{self, NetEntry};
use crate::rvs_core::ctl::{errno, CtlError, ServiceSpec, AF_INET};
use crate::rvs_core::sockopt::{self as so, GetCmd, SetCmd, SetRequest};
use crate::service::Service;
use crate::sync::DaemonConfig;

extern "C" {
    fn rvs_sockopt_register(set_min: c_int, set_end: c_int, get_min: c_int, get_end: c_int) -> c_int;
    fn rvs_sockopt_unregister();
    fn rvs_copy_from_sockptr(dst: *mut c_void, src: *const bindings::sockptr_t, len: usize) -> c_int;
}

/// The registered option ranges; dropping it unregisters them.
///
/// # Invariants
///
/// The ranges are registered, by this value alone.
pub(crate) struct Registration(());

impl Registration {
    /// Registers IPVS's ranges (taken while `ip_vs` is loaded).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: The C table is static; registering it while it is
        // registered fails (`EBUSY`: netfilter refuses overlapping ranges)
        // before anything is linked.
        let r = unsafe { rvs_sockopt_register(so::BASE_CTL, SetCmd::END, so::BASE_CTL, GetCmd::END) };
        to_result(r).inspect_err(|e| {
            if *e == EBUSY {
                pr_err!("ipvs_abi=1: IPVS's socket options are taken; unload ip_vs first\n");
            }
        })?;
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariants). A call in progress holds a
        // reference to the module (netfilter's `try_module_get` of the
        // table's owner), so the module, its tables and the namespaces'
        // state outlive it; this field drops first at unload.
        unsafe { rvs_sockopt_unregister() };
    }
}

/// The errno of a refusal, negative, as the option calls return it.
fn neg(e: CtlError) -> c_int {
    -e.errno
}

/// `setsockopt` of a command in IPVS's range.
///
/// # Safety
///
/// Called by netfilter with the socket's live namespace and its valid
/// argument pointer of `len` bytes (user or kernel memory).
#[no_mangle]
pub(crate) unsafe extern "C" fn rvs_sockopt_set(
    net: *mut bindings::net,
    cmd: c_int,
    arg: *const bindings::sockptr_t,
    len: c_uint,
) -> c_int {
    let Some(net) = NonNull::new(net) else {
        return EINVAL.to_errno();
    };
    // SAFETY: The socket's namespace lives while the call lasts.
    let net = unsafe { NetRef::from_raw(net) };
    if !net.ns_capable_net_admin() {
        return EPERM.to_errno();
    }
    let Some(cmd_kind) = SetCmd::from_raw(cmd) else {
        return EINVAL.to_errno();
    };
    // Every argument fits (the longest, a service and a real server, is
    // 68 bytes); IPVS refuses any other length before it reads a byte.
    let mut buf = [0u8; so::SERVICE_USER_LEN + so::DEST_USER_LEN];
    let n = cmd_kind.arg_len();
    if len as usize != n {
        return EINVAL.to_errno();
    }
    // SAFETY: `buf` has room for `n` bytes; `arg` is valid for `len == n`
    // bytes by this function's requirements.
    let r = unsafe { rvs_copy_from_sockptr(buf.as_mut_ptr().cast(), arg, n) };
    if r != 0 {
        return r;
    }
    match set(net, cmd, &buf[..n]) {
        Ok(()) => 0,
        Err(e) => neg(e),
    }
}

fn entry<'a>(net: NetRef<'a>) -> Result<&'a NetEntry, CtlError> {
    netns::entry(net).ok_or(CtlError {
        errno: errno::ENODEV,
        msg: "rvs has no state in this namespace\0",
    })
}

fn set(net: NetRef<'_>, cmd: c_int, arg: &[u8]) -> Result<(), CtlError> {
    let req = so::parse_set(cmd, arg)?;
    let ns = entry(net)?;
    let st = &ns.state;
    // The daemons have a lock of their own; the rest change the tables.
    match req {
        SetRequest::StartDaemon { state, ifname, syncid } => {
            ns.start_daemon(net, DaemonConfig::new(&ifname, syncid), state)
        }
        SetRequest::StopDaemon { state } => ns.sync.stop(state),
        SetRequest::Flush => {
            st.flush(&mut st.tables.lock());
            Ok(())
        }
        SetRequest::Timeouts(u) => {
            let _t = st.tables.lock();
            st.timeouts.set(&u);
            Ok(())
        }
        SetRequest::ZeroAll => st.zero(&mut st.tables.lock(), None),
        SetRequest::Service { cmd, spec } => {
            ctl::apply(cmd, net, st, &mut st.tables.lock(), spec, || Ok(None))
        }
        SetRequest::Dest { cmd, svc, dest } => {
            let spec = ServiceSpec { key: svc, conf: None };
            ctl::apply(cmd, net, st, &mut st.tables.lock(), spec, || dest.map(Some))
        }
    }
}

/// `getsockopt` of a command in IPVS's range: `*len` is the caller's
/// buffer, which also carries the question.
///
/// # Safety
///
/// Called by netfilter with the socket's live namespace, a user pointer
/// and a valid `len`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rvs_sockopt_get(
    net: *mut bindings::net,
    cmd: c_int,
    user: *mut c_void,
    len: *mut c_int,
) -> c_int {
    let (Some(net), Some(mut len)) = (NonNull::new(net), NonNull::new(len)) else {
        return EINVAL.to_errno();
    };
    // SAFETY: The socket's namespace lives while the call lasts.
    let net = unsafe { NetRef::from_raw(net) };
    // SAFETY: `len` is valid for the call and only this call uses it.
    let len = unsafe { len.as_mut() };
    match get(net, cmd, UserPtr::from_ptr(user), len) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn get(net: NetRef<'_>, cmd: c_int, user: UserPtr, len: &mut c_int) -> Result {
    if !net.ns_capable_net_admin() {
        return Err(EPERM);
    }
    let cmd = GetCmd::from_raw(cmd).ok_or(EINVAL)?;
    let want = cmd.arg_len();
    let have = usize::try_from(*len).map_err(|_| EINVAL)?;
    if have < want {
        return Err(EINVAL);
    }
    // The longest question is a whole service entry.
    let mut arg = [0u8; so::SERVICE_ENTRY_LEN];
    let q = arg.get_mut(..want).ok_or(EINVAL)?;
    UserSlice::new(user, want).reader().read_slice(q)?;
    let ns = netns::entry(net).ok_or(ENODEV)?;
    let st = &ns.state;
    let mut out = UserSlice::new(user, have).writer();
    match cmd {
        GetCmd::Version => {
            let (v, n) = so::version(crate::conn_tab_size());
            out.write_slice(v.get(..n).ok_or(EINVAL)?)?;
            *len = n as c_int;
        }
        GetCmd::Info => {
            let t = st.tables.lock();
            let n = t.services.values().filter(|s| s.key.af == AF_INET).count();
            out.write_slice(&so::info(crate::conn_tab_size(), n as u32))?;
        }
        GetCmd::Services => {
            let n = so::services_asked(&arg);
            if so::list_len(so::GET_SERVICES_LEN, so::SERVICE_ENTRY_LEN, n) != Some(have) {
                return Err(EINVAL);
            }
            // Entries are made under the tables' lock and copied out after
            // it, so a faulting user page stalls no other command.
            let entries = {
                let t = st.tables.lock();
                let mut v = KVec::with_capacity(t.services.values().count().min(n as usize), GFP_KERNEL)?;
                for svc in t.services.values().filter(|s| s.key.af == AF_INET).take(n as usize) {
                    v.push(service_entry([0; so::SERVICE_ENTRY_LEN], svc), GFP_KERNEL)?;
                }
                v
            };
            let mut out = UserSlice::new(user.wrapping_byte_add(so::GET_SERVICES_LEN), have - so::GET_SERVICES_LEN).writer();
            for e in entries.iter() {
                out.write_slice(e)?;
            }
        }
        GetCmd::Service => {
            let entry = {
                let t = st.tables.lock();
                let svc = so::parse_query(&arg).key.and_then(|k| t.services.get(&k)).ok_or(ESRCH)?;
                // Written over the question, as IPVS fills in the caller's.
                service_entry(arg, svc)
            };
            out.write_slice(&entry)?;
        }
        GetCmd::Dests => {
            let q = so::parse_query(&arg);
            if so::list_len(so::GET_DESTS_LEN, so::DEST_ENTRY_LEN, q.num_dests) != Some(have) {
                return Err(EINVAL);
            }
            let dests = {
                let t = st.tables.lock();
                q.key.and_then(|k| t.services.get(&k)).ok_or(ESRCH)?.dests()?
            };
            let mut out = UserSlice::new(user.wrapping_byte_add(so::GET_DESTS_LEN), have - so::GET_DESTS_LEN).writer();
            // This interface cannot show a real server of the other family.
            for d in dests.iter().filter(|d| d.key.af == AF_INET).take(q.num_dests as usize) {
                out.write_slice(&dest_entry(d))?;
            }
        }
        GetCmd::Timeout => {
            let (tcp, fin, udp) = st.timeouts.get();
            out.write_slice(&so::timeouts(tcp, fin, udp))?;
        }
        GetCmd::Daemon => {
            let mut found: [Option<([u8; 16], u32)>; 2] = [None, None];
            ns.sync.list(|state, cfg, _| {
                let i = usize::from(state != so::STATE_MASTER);
                if let Some(slot) = found.get_mut(i) {
                    *slot = Some((cfg.ifname, cfg.syncid));
                }
                Ok(())
            })?;
            let [m, b] = &found;
            out.write_slice(&so::daemons(m.as_ref().map(daemon), b.as_ref().map(daemon)))?;
        }
        GetCmd::Dest => return Err(EINVAL),
    }
    Ok(())
}

fn daemon((ifname, syncid): &([u8; 16], u32)) -> so::Daemon<'_> {
    so::Daemon {
        ifname,
        syncid: *syncid,
    }
}

fn service_entry(base: [u8; so::SERVICE_ENTRY_LEN], svc: &Service) -> [u8; so::SERVICE_ENTRY_LEN] {
    let kind = svc.sched_kind();
    so::service_entry(base, &so::ServiceEntry {
        key: &svc.key,
        sched: kind.name(),
        flags: svc.flags.load(Relaxed),
        timeout: svc.timeout.load(Relaxed),
        netmask: svc.netmask.load(Relaxed),
        num_dests: u32::try_from(svc.num_dests()).unwrap_or(u32::MAX),
        stats: svc.stats.read(),
    })
}

fn dest_entry(d: &Dest) -> [u8; so::DEST_ENTRY_LEN] {
    let a = &d.key.addr;
    so::dest_entry(&so::DestEntry {
        addr: [a[0], a[1], a[2], a[3]],
        port: d.key.port,
        fwd: d.fwd.load(Relaxed),
        weight: d.weight.load(Relaxed),
        u_threshold: d.u_threshold.load(Relaxed),
        l_threshold: d.l_threshold.load(Relaxed),
        active: d.active_conns.load(Relaxed),
        inactive: d.inact_conns.load(Relaxed),
        persistent: d.persist_conns.load(Relaxed),
        stats: d.stats.read(),
    })
}
