// SPDX-License-Identifier: GPL-2.0

//! What the sync daemons need of the kernel, as thin wrappers: kernel
//! threads that run a worker until told to stop, and UDP multicast sockets
//! on an interface (the C side joins groups and sets the socket options,
//! as IPVS's `make_send_sock` / `make_receive_sock`).

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::ptr::NonNull;

use kernel::{bindings, prelude::*};

use crate::net::NetRef;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_sync_dev(net: *mut bindings::net, name: *const c_char, ifindex: *mut c_int, mtu: *mut c_uint) -> c_int;
    fn rvs_sync_sock_send(
        net: *mut bindings::net,
        ifindex: c_int,
        v6: c_int,
        group: *const u8,
        port: u16,
        ttl: u8,
        sock_size: c_int,
        err: *mut c_int,
    ) -> *mut bindings::socket;
    fn rvs_sync_sock_recv(
        net: *mut bindings::net,
        ifindex: c_int,
        v6: c_int,
        group: *const u8,
        port: u16,
        sock_size: c_int,
        timeout_ms: c_uint,
        err: *mut c_int,
    ) -> *mut bindings::socket;
    fn rvs_sync_send(sock: *mut bindings::socket, buf: *const c_void, len: usize) -> c_int;
    fn rvs_sync_recv(sock: *mut bindings::socket, buf: *mut c_void, len: usize, wait: c_int) -> c_int;
    fn rvs_sync_sock_release(sock: *mut bindings::socket);
    fn rvs_kthread_start(
        f: unsafe extern "C" fn(*mut c_void) -> c_int,
        data: *mut c_void,
        kind: *const c_char,
        id: c_int,
    ) -> *mut bindings::task_struct;
    fn rvs_kthread_should_stop() -> c_int;
    fn rvs_kthread_stop(t: *mut bindings::task_struct);
    fn rvs_kthread_sleep_ms(ms: c_uint);
}

/// The index and MTU of the interface named `ifname` (NUL-terminated) in
/// `net`, or `None` if there is none.
pub(crate) fn interface(net: NetRef<'_>, ifname: &[u8; 16]) -> Option<(i32, u32)> {
    if !ifname.contains(&0) {
        return None;
    }
    let (mut ifindex, mut mtu) = (0, 0);
    // SAFETY: `net` is live for the borrow; the name is NUL-terminated.
    let rc = unsafe { rvs_sync_dev(net.as_ptr(), ifname.as_ptr().cast(), &mut ifindex, &mut mtu) };
    (rc == 0).then_some((ifindex, mtu))
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
    pub(crate) fn start(worker: W, kind: &'static CStr, id: usize) -> Result<Self> {
        let worker = KBox::pin(worker, GFP_KERNEL)?;
        let data = core::ptr::from_ref::<W>(&worker).cast_mut().cast::<c_void>();
        // SAFETY: `data` points to the pinned worker, which outlives the
        // thread: `Drop` stops the thread before the box is freed.
        let task = unsafe { rvs_kthread_start(run::<W>, data, kind.as_char_ptr().cast(), id as c_int) };
        // NULL, or an ERR_PTR (the last page of the address space).
        if task.is_null() || task as usize >= (-4095isize) as usize {
            return Err(ENOMEM);
        }
        Ok(Self {
            task: NonNull::new(task).ok_or(ENOMEM)?,
            _worker: worker,
        })
    }
}

impl<W> Drop for Thread<W> {
    fn drop(&mut self) {
        // SAFETY: The thread runs until asked to stop (`run` returns only
        // then), so the task is alive; this waits for it to return.
        unsafe { rvs_kthread_stop(self.task.as_ptr()) };
    }
}

pub(crate) trait Worker: Sync + Sized {
    /// The thread's body; returns when `should_stop()`.
    fn run(&self);
}

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
    unsafe { rvs_kthread_should_stop() != 0 }
}

/// Sleeps up to `ms` unless the thread is asked to stop.
pub(crate) fn sleep_ms(ms: u32) {
    // SAFETY: Process context (a kthread).
    unsafe { rvs_kthread_sleep_ms(ms) };
}

/// A multicast group on an interface: where a sync socket sends or
/// listens.
pub(crate) struct Group {
    pub(crate) ifindex: i32,
    pub(crate) v6: bool,
    pub(crate) addr: [u8; 16],
    pub(crate) port: u16,
}

/// An owned kernel UDP socket.
pub(crate) struct Socket(NonNull<bindings::socket>);

// SAFETY: Kernel sockets may be used from any process context; each is
// used by one thread at a time.
unsafe impl Send for Socket {}
// SAFETY: As above.
unsafe impl Sync for Socket {}

impl Socket {
    /// A socket that sends to `g` with `ttl` (`sock_size`: its send
    /// buffer, 0 for the default).
    pub(crate) fn sender(net: NetRef<'_>, g: &Group, ttl: u8, sock_size: i32) -> Result<Self> {
        let mut err: c_int = -(bindings::ENOMEM as c_int);
        // SAFETY: `net` is live for the borrow; the group is 16 bytes.
        let s = unsafe {
            rvs_sync_sock_send(net.as_ptr(), g.ifindex, g.v6 as c_int, g.addr.as_ptr(), g.port, ttl, sock_size, &mut err)
        };
        NonNull::new(s).map(Self).ok_or_else(|| Error::from_errno(err))
    }

    /// A socket bound to `g`, whose waiting receives give up after
    /// `timeout_ms` (so that a stopping thread notices soon).
    pub(crate) fn receiver(net: NetRef<'_>, g: &Group, sock_size: i32, timeout_ms: u32) -> Result<Self> {
        let mut err: c_int = -(bindings::ENOMEM as c_int);
        // SAFETY: As in `sender`.
        let s = unsafe {
            rvs_sync_sock_recv(
                net.as_ptr(),
                g.ifindex,
                g.v6 as c_int,
                g.addr.as_ptr(),
                g.port,
                sock_size,
                timeout_ms,
                &mut err,
            )
        };
        NonNull::new(s).map(Self).ok_or_else(|| Error::from_errno(err))
    }

    pub(crate) fn send(&self, buf: &[u8]) -> bool {
        // SAFETY: The socket is ours; `buf` is valid for its length.
        unsafe { rvs_sync_send(self.0.as_ptr(), buf.as_ptr().cast(), buf.len()) >= 0 }
    }

    /// One datagram into `buf`: its length, or `None` when nothing came.
    pub(crate) fn recv(&self, buf: &mut [u8], wait: bool) -> Option<usize> {
        // SAFETY: The socket is ours; `buf` is valid for its length.
        let n = unsafe { rvs_sync_recv(self.0.as_ptr(), buf.as_mut_ptr().cast(), buf.len(), wait as c_int) };
        usize::try_from(n).ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: Created by `rvs_sync_sock_*`, released once.
        unsafe { rvs_sync_sock_release(self.0.as_ptr()) };
    }
}
