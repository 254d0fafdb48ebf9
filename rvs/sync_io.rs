// SPDX-License-Identifier: GPL-2.0

//! What the sync daemons need of the kernel, as thin wrappers: kernel
//! threads that run a worker until told to stop, and UDP multicast sockets
//! on an interface, set up step by step as IPVS's `make_send_sock` and
//! `make_receive_sock` do. `rvs_helpers.c` only writes the socket fields
//! the bindings leave out.
//!
//! C headers: [`include/linux/kthread.h`](srctree/include/linux/kthread.h),
//! [`include/linux/net.h`](srctree/include/linux/net.h),
//! [`include/net/sock.h`](srctree/include/net/sock.h)

use core::mem::size_of;
use core::ptr::{self, NonNull};

use kernel::error::{from_err_ptr, to_result};
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_void};
use kernel::{bindings, prelude::*, sync::rcu, time::msecs_to_jiffies};

use crate::net::NetRef;

/// `RT_SCOPE_UNIVERSE` of <uapi/linux/rtnetlink.h>: an address that is
/// neither link- nor host-local.
const RT_SCOPE_UNIVERSE: c_int = 0;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_netdev_ifindex(dev: *const bindings::net_device) -> c_int;
    fn rvs_netdev_mtu(dev: *const bindings::net_device) -> c_uint;
    fn rvs_lock_sock(sk: *mut bindings::sock);
    fn rvs_sock_set_size(sk: *mut bindings::sock, send: c_int, val: c_int);
    fn rvs_sock_set_rcvtimeo(sk: *mut bindings::sock, timeo: c_long);
    fn rvs_inet_sock_set_mcast(sk: *mut bindings::sock, ifindex: c_int, ttl: u8, pmtudisc: u8, mc_loop: bool);
    fn rvs_inet6_sock_set_mcast(sk: *mut bindings::sock, ifindex: c_int, hops: u8, pmtudisc: u8, mc_loop: bool);
    // Exported, but outside the kernel's bindings (<net/sock.h>).
    fn release_sock(sk: *mut bindings::sock);
    fn sock_set_reuseaddr(sk: *mut bindings::sock);
    fn sock_bindtoindex(sk: *mut bindings::sock, ifindex: c_int, lock_sk: bool) -> c_int;
    // Exported, but outside the kernel's bindings (<linux/netdevice.h>).
    fn dev_get_by_name_rcu(net: *mut bindings::net, name: *const c_char) -> *mut bindings::net_device;
    fn dev_get_by_index_rcu(net: *mut bindings::net, ifindex: c_int) -> *mut bindings::net_device;
    // Exported, but outside the kernel's bindings (<linux/inetdevice.h>).
    fn inet_select_addr(dev: *const bindings::net_device, dst: u32, scope: c_int) -> u32;
    // Exported, but outside the kernel's bindings (<linux/rtnetlink.h>).
    fn rtnl_lock();
    fn rtnl_unlock();
    // Exported, but outside the kernel's bindings (<linux/igmp.h>,
    // <net/ipv6.h>).
    fn ip_mc_join_group(sk: *mut bindings::sock, imr: *mut bindings::ip_mreqn) -> c_int;
    #[cfg(CONFIG_IPV6)]
    fn ipv6_sock_mc_join(sk: *mut bindings::sock, ifindex: c_int, addr: *const bindings::in6_addr) -> c_int;
}

/// The index and MTU of the interface named `ifname` (NUL-terminated) in
/// `net`, or `None` if there is none.
pub(crate) fn interface(net: NetRef<'_>, ifname: &[u8; 16]) -> Option<(i32, u32)> {
    if !ifname.contains(&0) {
        return None;
    }
    let _rcu = rcu::read_lock();
    // SAFETY: `net` is live for the borrow, the name is NUL-terminated and
    // the RCU read lock, which the lookup needs, is held.
    let dev = unsafe { dev_get_by_name_rcu(net.as_ptr(), ifname.as_ptr().cast()) };
    if dev.is_null() {
        return None;
    }
    // SAFETY: `dev` stays valid while the RCU read lock is held.
    Some(unsafe { (rvs_netdev_ifindex(dev), rvs_netdev_mtu(dev)) })
}

/// A shared reference handed to kernel threads, which no borrow can
/// outlive: whoever makes one vouches that the value outlives every thread
/// given it.
pub(crate) struct ThreadShared<T: Sync>(NonNull<T>);

impl<T: Sync> Clone for ThreadShared<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Sync> Copy for ThreadShared<T> {}

// SAFETY: The value is `Sync`, so it may be used from any thread, and
// `new`'s caller vouches for its lifetime.
unsafe impl<T: Sync> Send for ThreadShared<T> {}
// SAFETY: As above.
unsafe impl<T: Sync> Sync for ThreadShared<T> {}

impl<T: Sync> ThreadShared<T> {
    /// # Safety
    ///
    /// `value` stays where it is, alive, until every thread given this
    /// (or a copy) has been stopped.
    pub(crate) unsafe fn new(value: &T) -> Self {
        Self(NonNull::from(value))
    }

    pub(crate) fn get(&self) -> &T {
        // SAFETY: `new`'s contract: the value outlives the threads that
        // hold this, and so this.
        unsafe { self.0.as_ref() }
    }
}

/// A kernel thread running `W`'s loop; stopping it (drop) waits for it,
/// then frees what it used.
pub(crate) struct Thread<W> {
    task: NonNull<bindings::task_struct>,
    _worker: Pin<KBox<W>>,
}

// SAFETY: The task pointer is only handed to `kthread_stop`, from any
// thread; the worker is `Sync` (see the worker types).
unsafe impl<W: Sync> Send for Thread<W> {}

impl<W: Worker> Thread<W> {
    /// Starts `worker` on a thread named `rvs-<kind>:<id>`, as
    /// `kthread_run` does: created asleep, then woken.
    pub(crate) fn start(worker: W, kind: &'static CStr, id: usize) -> Result<Self> {
        let worker = KBox::pin(worker, GFP_KERNEL)?;
        let data = core::ptr::from_ref::<W>(&worker).cast_mut().cast::<c_void>();
        let id = c_int::try_from(id).map_err(|_| EINVAL)?;
        // SAFETY: `data` points to the pinned worker, which outlives the
        // thread: `Drop` stops the thread before the box is freed. The
        // format's `%s` and `%d` get a C string and an int.
        let task = unsafe {
            bindings::kthread_create_on_node(
                Some(run::<W>),
                data,
                bindings::NUMA_NO_NODE,
                c"rvs-%s:%d".as_char_ptr(),
                kind.as_char_ptr(),
                id,
            )
        };
        let task = NonNull::new(from_err_ptr(task)?).ok_or(ENOMEM)?;
        // SAFETY: `task` is the new thread, which lives until stopped.
        unsafe { bindings::wake_up_process(task.as_ptr()) };
        Ok(Self { task, _worker: worker })
    }
}

impl<W> Drop for Thread<W> {
    fn drop(&mut self) {
        // SAFETY: The thread runs until asked to stop (`run` returns only
        // then), so the task is alive; this waits for it to return.
        unsafe { bindings::kthread_stop(self.task.as_ptr()) };
    }
}

pub(crate) trait Worker: Sync + Sized {
    /// The thread's body; returns when `should_stop()`.
    fn run(&self);
}

/// The thread function `Thread::start` gives `kthread_create_on_node`.
///
/// # Safety
///
/// `data` is a pinned `W` that outlives the call.
unsafe extern "C" fn run<W: Worker>(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the pinned worker of `Thread::start`, alive until
    // this function has returned (`kthread_stop` waits for it).
    let w = unsafe { &*data.cast::<W>() };
    w.run();
    0
}

/// Whether the running kernel thread was asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: Called from a kthread.
    unsafe { bindings::kthread_should_stop() }
}

/// `ms` as a timeout in jiffies, as the scheduler and sockets take it.
fn timeout_jiffies(ms: u32) -> c_long {
    // `msecs_to_jiffies` stops at `MAX_JIFFY_OFFSET`, which fits.
    c_long::try_from(msecs_to_jiffies(ms)).unwrap_or(c_long::MAX)
}

/// Sleeps up to `ms` unless the thread is asked to stop (`kthread_stop`
/// wakes it). Not under a spinlock.
pub(crate) fn sleep_ms(ms: u32) {
    // SAFETY: Process context (a kthread).
    unsafe { bindings::schedule_timeout_interruptible(timeout_jiffies(ms)) };
}

/// A multicast group on an interface: where a sync socket sends or
/// listens.
pub(crate) struct Group {
    pub(crate) ifindex: i32,
    pub(crate) v6: bool,
    pub(crate) addr: [u8; 16],
    pub(crate) port: u16,
}

impl Group {
    /// An IPv4 group's address, as `s_addr` holds it.
    fn ipv4_addr(&self) -> u32 {
        u32::from_ne_bytes([self.addr[0], self.addr[1], self.addr[2], self.addr[3]])
    }
}

/// A socket address of either family, as `kernel_bind` and
/// `kernel_connect` take it.
enum SockAddr {
    V4(bindings::sockaddr_in),
    V6(bindings::sockaddr_in6),
}

impl SockAddr {
    /// An IPv4 address (`s_addr`, in network order) and port.
    fn v4(s_addr: u32, port: u16) -> Self {
        Self::V4(bindings::sockaddr_in {
            sin_family: bindings::AF_INET as u16,
            sin_port: port.to_be(),
            sin_addr: bindings::in_addr { s_addr },
            ..Default::default()
        })
    }

    /// The group's address and port.
    fn group(g: &Group) -> Self {
        if g.v6 {
            Self::V6(bindings::sockaddr_in6 {
                sin6_family: bindings::AF_INET6 as u16,
                sin6_port: g.port.to_be(),
                sin6_addr: bindings::in6_addr {
                    in6_u: bindings::in6_addr__bindgen_ty_1 { u6_addr8: g.addr },
                },
                ..Default::default()
            })
        } else {
            Self::v4(g.ipv4_addr(), g.port)
        }
    }

    /// The address and its length, for the socket calls (which only read
    /// it).
    fn as_raw(&mut self) -> (*mut bindings::sockaddr_unsized, c_int) {
        match self {
            Self::V4(sa) => (ptr::from_mut(sa).cast(), size_of::<bindings::sockaddr_in>() as c_int),
            Self::V6(sa) => (ptr::from_mut(sa).cast(), size_of::<bindings::sockaddr_in6>() as c_int),
        }
    }
}

/// The first IPv4 address of interface `ifindex`, or 0 (any) if it has
/// none (or is gone).
fn interface_ipv4_addr(net: NetRef<'_>, ifindex: i32) -> u32 {
    let _rcu = rcu::read_lock();
    // SAFETY: `net` is live for the borrow; the RCU read lock, which both
    // calls need, is held, and keeps `dev` valid.
    unsafe {
        let dev = dev_get_by_index_rcu(net.as_ptr(), ifindex);
        if dev.is_null() {
            0
        } else {
            inet_select_addr(dev, 0, RT_SCOPE_UNIVERSE)
        }
    }
}

/// Which of a socket's buffers a size is for.
#[derive(Clone, Copy)]
enum Buffer {
    Send,
    Receive,
}

/// An owned kernel UDP socket.
///
/// # Invariants
///
/// `self.0` came from `sock_create_kern`, so it has its `struct sock`, and
/// only `Drop` releases it.
pub(crate) struct Socket(NonNull<bindings::socket>);

// SAFETY: Kernel sockets may be used from any process context; each is
// used by one thread at a time.
unsafe impl Send for Socket {}
// SAFETY: As above.
unsafe impl Sync for Socket {}

impl Socket {
    /// A socket that sends to `g` with `ttl` (`sock_size`: its send
    /// buffer, 0 for the default): out of the group's interface, without
    /// looping back to this host, with fragmentation allowed (a message
    /// built for an older, larger MTU still goes), connected to the group.
    pub(crate) fn sender(net: NetRef<'_>, g: &Group, ttl: u8, sock_size: i32) -> Result<Self> {
        let sock = Self::udp(net, g.v6)?;
        sock.locked(|sk| {
            // SAFETY: `sk` is the socket's, its lock held as these need.
            unsafe {
                rvs_inet_sock_set_mcast(sk, g.ifindex, ttl, bindings::IP_PMTUDISC_DONT as u8, false);
                if g.v6 {
                    rvs_inet6_sock_set_mcast(sk, g.ifindex, ttl, bindings::IPV6_PMTUDISC_DONT as u8, false);
                }
            }
        });
        if sock_size > 0 {
            sock.set_size(Buffer::Send, sock_size);
        }
        // IPv4 sends from the interface's own address, as IPVS's
        // `bind_mcastif_addr`; IPv6 picks its source by the interface.
        if !g.v6 {
            sock.bind(&mut SockAddr::v4(interface_ipv4_addr(net, g.ifindex), 0))?;
        }
        sock.connect(&mut SockAddr::group(g))?;
        Ok(sock)
    }

    /// A socket bound to `g` and joined to it, whose waiting receives give
    /// up after `timeout_ms` (so that a stopping thread notices soon).
    pub(crate) fn receiver(net: NetRef<'_>, g: &Group, sock_size: i32, timeout_ms: u32) -> Result<Self> {
        let sock = Self::udp(net, g.v6)?;
        let sk = sock.sk();
        // Each port's thread, and any other receiver of the group, binds
        // the same address (`SO_REUSEADDR`).
        // SAFETY: `sk` is the socket's; the call takes its lock.
        unsafe { sock_set_reuseaddr(sk) };
        // SAFETY: `sk` is the socket's, not yet seen by anyone else.
        unsafe { rvs_sock_set_rcvtimeo(sk, timeout_jiffies(timeout_ms)) };
        if sock_size > 0 {
            sock.set_size(Buffer::Receive, sock_size);
        }
        // SAFETY: `sk` is the socket's; the call takes its lock.
        to_result(unsafe { sock_bindtoindex(sk, g.ifindex, true) })?;
        sock.bind(&mut SockAddr::group(g))?;
        sock.join(g)?;
        Ok(sock)
    }

    /// A new UDP socket of the group's family in `net`.
    fn udp(net: NetRef<'_>, v6: bool) -> Result<Self> {
        let family = if v6 { bindings::AF_INET6 } else { bindings::AF_INET };
        let mut sock = ptr::null_mut();
        // SAFETY: `net` is live for the borrow; `sock` receives the socket.
        to_result(unsafe {
            bindings::sock_create_kern(
                net.as_ptr(),
                family as c_int,
                bindings::sock_type_SOCK_DGRAM as c_int,
                bindings::IPPROTO_UDP as c_int,
                &mut sock,
            )
        })?;
        NonNull::new(sock).map(Self).ok_or(ENOMEM)
    }

    fn sk(&self) -> *mut bindings::sock {
        // SAFETY: The socket is ours (type invariants).
        unsafe { (*self.0.as_ptr()).sk }
    }

    /// Runs `f` on the socket's `struct sock` with its lock held, as a
    /// `setsockopt` does.
    fn locked<T>(&self, f: impl FnOnce(*mut bindings::sock) -> T) -> T {
        let sk = self.sk();
        // SAFETY: `sk` is the socket's; process context.
        unsafe { rvs_lock_sock(sk) };
        let r = f(sk);
        // SAFETY: Locked above.
        unsafe { release_sock(sk) };
        r
    }

    /// Sets a buffer's size as IPVS's `set_sock_size`: doubled, within the
    /// `[wr]mem_max` sysctl, and kept from autotuning.
    fn set_size(&self, which: Buffer, size: i32) {
        let send = c_int::from(matches!(which, Buffer::Send));
        // SAFETY: `sk` is the socket's; the helper takes its lock.
        unsafe { rvs_sock_set_size(self.sk(), send, size) };
    }

    fn bind(&self, addr: &mut SockAddr) -> Result {
        let (sa, len) = addr.as_raw();
        // SAFETY: The socket is ours; `sa` is an address of `len` bytes.
        to_result(unsafe { bindings::kernel_bind(self.0.as_ptr(), sa, len) })
    }

    fn connect(&self, addr: &mut SockAddr) -> Result {
        let (sa, len) = addr.as_raw();
        // SAFETY: As in `bind`.
        to_result(unsafe { bindings::kernel_connect(self.0.as_ptr(), sa, len, 0) })
    }

    /// Joins the group on its interface. RTNL first, then the socket's
    /// lock: IPVS's order (it holds RTNL while it starts a daemon).
    fn join(&self, g: &Group) -> Result {
        // SAFETY: Process context; the sync control path does not hold
        // RTNL.
        unsafe { rtnl_lock() };
        let rc = self.locked(|sk| {
            if g.v6 {
                // SAFETY: As below.
                unsafe { join_ipv6(sk, g) }
            } else {
                let mut mreq = bindings::ip_mreqn {
                    imr_multiaddr: bindings::in_addr { s_addr: g.ipv4_addr() },
                    imr_ifindex: g.ifindex,
                    ..Default::default()
                };
                // SAFETY: `sk` is the socket's; RTNL and its lock are held,
                // as the call needs.
                unsafe { ip_mc_join_group(sk, &mut mreq) }
            }
        });
        // SAFETY: Locked above.
        unsafe { rtnl_unlock() };
        to_result(rc)
    }

    /// Sends one datagram without waiting; whether it went out.
    pub(crate) fn send(&self, buf: &[u8]) -> bool {
        let mut msg = bindings::msghdr {
            msg_flags: bindings::MSG_DONTWAIT | bindings::MSG_NOSIGNAL,
            ..Default::default()
        };
        let mut iov = bindings::kvec {
            iov_base: buf.as_ptr().cast_mut().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: The socket is ours; `iov` describes `buf`, which a send
        // only reads.
        unsafe { bindings::kernel_sendmsg(self.0.as_ptr(), &mut msg, &mut iov, 1, buf.len()) >= 0 }
    }

    /// One datagram into `buf`, waiting up to the socket's timeout or not
    /// at all: its length, or `None` when nothing came.
    pub(crate) fn recv(&self, buf: &mut [u8], wait: bool) -> Option<usize> {
        let mut msg = bindings::msghdr::default();
        let mut iov = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let flags = if wait { 0 } else { bindings::MSG_DONTWAIT as c_int };
        // SAFETY: The socket is ours; `iov` describes `buf`.
        let n = unsafe { bindings::kernel_recvmsg(self.0.as_ptr(), &mut msg, &mut iov, 1, buf.len(), flags) };
        usize::try_from(n).ok()
    }
}

/// Joins an IPv6 group: 0 or a negative errno.
///
/// # Safety
///
/// `sk` is a live IPv6 socket's, and the caller holds RTNL and its lock.
#[cfg(CONFIG_IPV6)]
unsafe fn join_ipv6(sk: *mut bindings::sock, g: &Group) -> c_int {
    let mut addr = bindings::in6_addr::default();
    addr.in6_u.u6_addr8 = g.addr;
    // SAFETY: As the caller promises.
    unsafe { ipv6_sock_mc_join(sk, g.ifindex, &addr) }
}

/// Without IPv6 there are no IPv6 sockets to join with.
///
/// # Safety
///
/// None needed; as the function above.
#[cfg(not(CONFIG_IPV6))]
unsafe fn join_ipv6(_sk: *mut bindings::sock, _g: &Group) -> c_int {
    -(bindings::EAFNOSUPPORT as c_int)
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: Ours, released once (type invariants).
        unsafe { bindings::sock_release(self.0.as_ptr()) };
    }
}
