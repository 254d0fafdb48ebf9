// SPDX-License-Identifier: GPL-2.0

//! A thin wrapper over the kernel's generic netlink API: a family with
//! operations and an attribute policy, requests, and reply messages.
//!
//! The kernel's own `kernel::net::netlink` covers multicast only; rvs needs
//! `doit` and `dumpit` operations, policies and extack, so it keeps its own
//! small layer here. All `unsafe` of the control plane lives in this file.
//!
//! C header: [`include/net/genetlink.h`](srctree/include/net/genetlink.h)

use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::{bindings, error::to_result, prelude::*, types::Opaque, ThisModule};

use crate::net::NetRef;
use crate::rvs_core::nla;

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_nla_put_u64(skb: *mut bindings::sk_buff, kind: c_int, v: u64, pad: c_int) -> c_int;
    fn rvs_nla_nest_start(skb: *mut bindings::sk_buff, kind: c_int) -> *mut bindings::nlattr;
    fn rvs_nla_nest_end(skb: *mut bindings::sk_buff, start: *mut bindings::nlattr);
    fn rvs_nla_nest_cancel(skb: *mut bindings::sk_buff, start: *mut bindings::nlattr);
    fn rvs_dump_attr(
        cb: *mut bindings::netlink_callback,
        kind: c_int,
        maxattr: c_int,
    ) -> *const bindings::nlattr;
    fn rvs_genlmsg_reply(skb: *mut bindings::sk_buff, info: *mut bindings::genl_info) -> c_int;
    fn rvs_genl_info_net(info: *const bindings::genl_info) -> *mut bindings::net;
    fn rvs_dump_family(cb: *mut bindings::netlink_callback) -> *const bindings::genl_family;
}

/// One entry of an attribute validation policy.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct PolicyEntry(bindings::nla_policy);

impl PolicyEntry {
    const fn of_type(kind: u32, len: u16) -> Self {
        Self(bindings::nla_policy {
            type_: kind as u8,
            len,
            ..pin_init::zeroed()
        })
    }

    /// An attribute type the family does not accept.
    pub(crate) const fn reject() -> Self {
        Self::of_type(bindings::NLA_REJECT, 0)
    }
    /// Attribute number 0, never valid.
    pub(crate) const fn unspec() -> Self {
        Self::reject()
    }
    /// A `u8`.
    pub(crate) const fn u8() -> Self {
        Self::of_type(bindings::NLA_U8, 0)
    }
    /// A `u16`.
    pub(crate) const fn u16() -> Self {
        Self::of_type(bindings::NLA_U16, 0)
    }
    /// A `u32`.
    pub(crate) const fn u32() -> Self {
        Self::of_type(bindings::NLA_U32, 0)
    }
    /// A NUL-terminated string of at most `max` characters.
    pub(crate) const fn string(max: u16) -> Self {
        Self::of_type(bindings::NLA_NUL_STRING, max)
    }
    /// A binary blob of at most `max` bytes.
    pub(crate) const fn binary(max: u16) -> Self {
        Self::of_type(bindings::NLA_BINARY, max)
    }
    /// Nested attributes validated by `policy`.
    pub(crate) const fn nested<const N: usize>(policy: &'static Policy<N>) -> Self {
        let mut p = Self::of_type(bindings::NLA_NESTED, (N - 1) as u16);
        p.0.__bindgen_anon_1.nested_policy = policy.0.as_ptr().cast();
        p
    }
}

/// An attribute validation policy, indexed by attribute type: `N` is the
/// highest attribute type plus one.
#[repr(transparent)]
pub(crate) struct Policy<const N: usize>(pub [PolicyEntry; N]);

// SAFETY: A policy is immutable plain data, possibly pointing at other
// immutable `'static` policies, so sharing it between threads is sound.
unsafe impl<const N: usize> Sync for Policy<N> {}

/// Who may run an operation.
#[derive(Clone, Copy)]
pub(crate) enum Permission {
    /// `CAP_NET_ADMIN` in the user namespace owning the request's network
    /// namespace, as IPVS asks for every command.
    NetAdmin,
    /// `CAP_NET_ADMIN` in the initial user namespace: IPVS's own family
    /// (`GENL_ADMIN_PERM`).
    Admin,
}

/// A `doit` handler: one request, at most one reply.
pub(crate) trait DoIt {
    /// Handles the request. An error is returned to the sender as errno,
    /// with the extack message set on `req` if any.
    fn doit(req: &mut Request<'_>) -> Result;
}

/// A `dumpit` handler: fills one reply skb after another until done.
pub(crate) trait DumpIt {
    /// Writes entries starting at `cursor` into `dump`, advancing `cursor`
    /// past what fit. Returns `Ok(true)` when every entry was written.
    fn dumpit(dump: &mut Dump<'_>, cursor: &mut [i64; 4]) -> Result<bool>;
}

/// One operation of a family.
#[repr(transparent)]
pub(crate) struct Op(bindings::genl_ops);

// SAFETY: An operation is immutable after construction: function pointers
// and a null policy (the family's policy applies).
unsafe impl Sync for Op {}

impl Op {
    const fn new(cmd: u8, perm: Permission) -> bindings::genl_ops {
        bindings::genl_ops {
            cmd,
            flags: match perm {
                Permission::NetAdmin => bindings::GENL_UNS_ADMIN_PERM as u8,
                Permission::Admin => bindings::GENL_ADMIN_PERM as u8,
            },
            ..pin_init::zeroed()
        }
    }

    /// An operation handled by `H::doit`.
    pub(crate) const fn doit<H: DoIt>(cmd: u8, perm: Permission) -> Self {
        let mut op = Self::new(cmd, perm);
        op.doit = Some(doit_trampoline::<H>);
        Self(op)
    }

    /// An operation handled by `H::doit` and, for dump requests, `D::dumpit`.
    pub(crate) const fn doit_dumpit<H: DoIt, D: DumpIt>(cmd: u8, perm: Permission) -> Self {
        let mut op = Self::new(cmd, perm);
        op.doit = Some(doit_trampoline::<H>);
        op.dumpit = Some(dumpit_trampoline::<D>);
        Self(op)
    }

    /// Validates this operation's attributes leniently (unknown attributes
    /// ignored, as for IPVS's commands, which predate strict validation).
    pub(crate) const fn lenient(mut self) -> Self {
        self.0.validate =
            (bindings::genl_validate_flags_GENL_DONT_VALIDATE_STRICT
                | bindings::genl_validate_flags_GENL_DONT_VALIDATE_DUMP) as u8;
        self
    }

    /// A dump-only operation handled by `D::dumpit`.
    pub(crate) const fn dumpit<D: DumpIt>(cmd: u8, perm: Permission) -> Self {
        let mut op = Self::new(cmd, perm);
        op.dumpit = Some(dumpit_trampoline::<D>);
        Self(op)
    }
}

/// A generic netlink family with operations and a policy.
///
/// # Invariants
///
/// `inner` is a `genl_family` whose `ops` and `policy` point at `'static`
/// tables; the kernel writes to it (its id) only while registering.
#[repr(transparent)]
pub(crate) struct Family {
    inner: Opaque<bindings::genl_family>,
}

// SAFETY: After construction the family is only handed to the kernel, which
// serialises its own writes to it under `genl_mutex`.
unsafe impl Sync for Family {}

impl Family {
    /// Builds a family in const context.
    ///
    /// Panics at compile time on a bad name or too many operations.
    /// Operations numbered below `legacy_below` may validate leniently
    /// (`resv_start_op`); 0 makes every operation strict.
    pub(crate) const fn const_new<const N: usize, const M: usize>(
        module: &ThisModule,
        name: &[u8],
        version: u8,
        policy: &'static Policy<N>,
        ops: &'static [Op; M],
        legacy_below: u8,
    ) -> Self {
        let mut fam: bindings::genl_family = pin_init::zeroed();
        assert!(name.len() <= fam.name.len() && name[name.len() - 1] == 0);
        assert!(M < 256);
        let mut i = 0;
        while i < name.len() {
            fam.name[i] = name[i];
            i += 1;
        }
        fam.version = version as u32;
        fam.maxattr = (N - 1) as u32;
        fam.policy = policy.0.as_ptr().cast();
        fam.ops = ops.as_ptr().cast();
        fam.n_ops = M as u8;
        fam.resv_start_op = legacy_below;
        // netnsok: rvs keeps its tables per network namespace.
        fam._bitfield_1 = bindings::__BindgenBitfieldUnit::new([1]);
        fam.module = module.as_ptr();
        Self {
            inner: Opaque::new(fam),
        }
    }

    fn as_raw(&self) -> *mut bindings::genl_family {
        self.inner.get()
    }

    /// The family behind a pointer genetlink passes to rvs's handlers.
    ///
    /// # Safety
    ///
    /// `ptr` points at one of rvs's `'static` families: genetlink only calls
    /// rvs's operations for the families rvs registered.
    unsafe fn from_registered(ptr: *const bindings::genl_family) -> &'static Family {
        // SAFETY: `Family` is a transparent wrapper of `genl_family`, and by
        // the requirements the pointee is a `'static` `Family`.
        unsafe { &*ptr.cast::<Family>() }
    }

    /// Whether `self` and `other` are the same family.
    pub(crate) fn is(&self, other: &Family) -> bool {
        core::ptr::eq(self, other)
    }

    /// Registers the family; it stays registered until the returned value
    /// is dropped.
    pub(crate) fn register(&'static self) -> Result<Registration> {
        // SAFETY: `self` is a valid, `'static` family whose tables are
        // `'static` by the type invariants.
        to_result(unsafe { bindings::genl_register_family(self.as_raw()) })?;
        Ok(Registration { family: self })
    }
}

/// A registered family; dropping it unregisters the family.
///
/// # Invariants
///
/// `family` was registered successfully and not yet unregistered.
pub(crate) struct Registration {
    family: &'static Family,
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the family is registered; this is
        // the only place that unregisters it, and it runs once.
        unsafe { bindings::genl_unregister_family(self.family.as_raw()) };
    }
}

/// A `doit` request.
///
/// # Invariants
///
/// `info` is the valid `genl_info` of the request being handled; its
/// attributes were validated against the family policy.
pub(crate) struct Request<'a> {
    info: NonNull<bindings::genl_info>,
    family: &'static Family,
    _p: PhantomData<&'a mut bindings::genl_info>,
}

impl<'a> Request<'a> {
    /// The payload of top-level attribute `kind`, if present.
    pub(crate) fn attr(&self, kind: u16) -> Option<&'a [u8]> {
        // SAFETY: `info` is valid by the type invariants.
        let info = unsafe { self.info.as_ref() };
        if kind as u32 > self.family_maxattr() || info.attrs.is_null() {
            return None;
        }
        // SAFETY: The kernel parsed the attributes into an array of
        // `maxattr + 1` pointers, each null or pointing at an attribute that
        // lies within the request and has passed the policy's checks.
        unsafe {
            let a = *info.attrs.add(kind as usize);
            attr_payload(a)
        }
    }

    /// The family the request came in on.
    pub(crate) fn family(&self) -> &'static Family {
        self.family
    }

    /// The request's command.
    pub(crate) fn cmd(&self) -> u8 {
        // SAFETY: `info` is valid by the type invariants, and so is its
        // generic netlink header.
        unsafe { (*self.info.as_ref().genlhdr).cmd }
    }

    fn family_maxattr(&self) -> u32 {
        // SAFETY: the family is valid for `'static`.
        unsafe { (*self.family.as_raw()).maxattr }
    }

    /// The network namespace the request was sent in.
    pub(crate) fn net(&self) -> NetRef<'a> {
        // SAFETY: `info` is valid; the namespace outlives the request.
        let net = unsafe { rvs_genl_info_net(self.info.as_ptr()) };
        // SAFETY: A request always has a namespace, live until it is done.
        unsafe { NetRef::from_raw(NonNull::new_unchecked(net)) }
    }

    /// Sets the extack message returned with the error.
    pub(crate) fn set_err_msg(&mut self, msg: &'static CStr) {
        // SAFETY: `info` is valid; `extack` is either null or valid for the
        // request, and the message is `'static` as the kernel requires.
        unsafe {
            let ext = self.info.as_ref().extack;
            if !ext.is_null() {
                (*ext)._msg = msg.as_char_ptr();
            }
        }
    }

    /// Builds a reply with command `cmd`, filled by `fill`, and sends it.
    pub(crate) fn reply(&mut self, cmd: u8, fill: impl FnOnce(&mut Msg<'_>) -> Result) -> Result {
        // SAFETY: `genlmsg_new` takes plain integers.
        let skb = unsafe {
            bindings::genlmsg_new(bindings::GENLMSG_DEFAULT_SIZE as usize, bindings::GFP_KERNEL)
        };
        let skb = NonNull::new(skb).ok_or(ENOMEM)?;
        // SAFETY: `info` is valid; `skb` is a fresh message we own.
        let hdr = unsafe {
            let info = self.info.as_ref();
            bindings::genlmsg_put(
                skb.as_ptr(),
                info.snd_portid,
                info.snd_seq,
                self.family.as_raw(),
                0,
                cmd,
            )
        };
        let mut msg = Msg {
            skb,
            _p: PhantomData,
        };
        let filled = if hdr.is_null() {
            Err(EMSGSIZE)
        } else {
            fill(&mut msg)
        };
        if let Err(e) = filled {
            // SAFETY: we own `skb` and nobody else saw it.
            unsafe { bindings::nlmsg_free(skb.as_ptr()) };
            return Err(e);
        }
        // SAFETY: `hdr` is the header of `skb`; `genlmsg_reply` takes
        // ownership of `skb` whatever it returns.
        unsafe {
            bindings::genlmsg_end(skb.as_ptr(), hdr);
            to_result(rvs_genlmsg_reply(skb.as_ptr(), self.info.as_ptr()))
        }
    }
}

/// Returns the payload of attribute `a`, or `None` if `a` is null.
///
/// # Safety
///
/// `a` is null or points at a validated attribute that stays valid for `'a`.
unsafe fn attr_payload<'a>(a: *const bindings::nlattr) -> Option<&'a [u8]> {
    if a.is_null() {
        return None;
    }
    // SAFETY: By the function's requirements `a` is a validated attribute:
    // `nla_len` covers the header and a payload within the message.
    unsafe {
        let len = ((*a).nla_len as usize).saturating_sub(nla::HDRLEN);
        let data = a.cast::<u8>().add(nla::HDRLEN);
        Some(core::slice::from_raw_parts(data, len))
    }
}

/// A message being built.
///
/// # Invariants
///
/// `skb` is a netlink message owned by the code building it.
pub(crate) struct Msg<'a> {
    skb: NonNull<bindings::sk_buff>,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl Msg<'_> {
    /// Puts an attribute with raw payload `data`.
    pub(crate) fn put_bytes(&mut self, kind: u16, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| EMSGSIZE)?;
        // SAFETY: `skb` is valid by the type invariants and `data` is
        // readable for `len` bytes.
        to_result(unsafe {
            bindings::nla_put(
                self.skb.as_ptr(),
                kind as c_int,
                len,
                data.as_ptr().cast::<c_void>(),
            )
        })
    }

    /// Puts a `u32` attribute (host order, as netlink integers are).
    pub(crate) fn put_u32(&mut self, kind: u16, v: u32) -> Result {
        self.put_bytes(kind, &v.to_ne_bytes())
    }

    /// Puts a `u16` attribute (host order).
    pub(crate) fn put_u16(&mut self, kind: u16, v: u16) -> Result {
        self.put_bytes(kind, &v.to_ne_bytes())
    }

    /// Puts a `u64` attribute, aligned for 64-bit access with `pad`
    /// attributes as netlink requires.
    pub(crate) fn put_u64(&mut self, kind: u16, v: u64, pad: u16) -> Result {
        // SAFETY: `skb` is valid by the type invariants.
        to_result(unsafe { rvs_nla_put_u64(self.skb.as_ptr(), kind as c_int, v, pad as c_int) })
    }

    /// Puts a nested attribute `kind` whose contents `fill` writes. On
    /// error the partial nest is removed.
    pub(crate) fn nested(&mut self, kind: u16, fill: impl FnOnce(&mut Msg<'_>) -> Result) -> Result {
        // SAFETY: `skb` is valid by the type invariants.
        let start = unsafe { rvs_nla_nest_start(self.skb.as_ptr(), kind as c_int) };
        if start.is_null() {
            return Err(EMSGSIZE);
        }
        let res = fill(self);
        // SAFETY: `start` is the nest just opened in this skb and still open.
        unsafe {
            match res {
                Ok(()) => rvs_nla_nest_end(self.skb.as_ptr(), start),
                Err(_) => rvs_nla_nest_cancel(self.skb.as_ptr(), start),
            }
        }
        res
    }

    /// Puts a NUL-terminated string attribute.
    pub(crate) fn put_str(&mut self, kind: u16, s: &CStr) -> Result {
        self.put_bytes(kind, s.to_bytes_with_nul())
    }
}

/// A dump in progress: one skb of a multi-part reply.
///
/// # Invariants
///
/// `skb` and `cb` are the valid arguments of the running `dumpit` call.
pub(crate) struct Dump<'a> {
    skb: NonNull<bindings::sk_buff>,
    cb: NonNull<bindings::netlink_callback>,
    family: &'static Family,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl<'a> Dump<'a> {
    /// The payload of top-level attribute `kind` of the dump request.
    pub(crate) fn attr(&self, kind: u16) -> Option<&'a [u8]> {
        // SAFETY: the family is valid for `'static`.
        let max = unsafe { (*self.family.as_raw()).maxattr } as c_int;
        // SAFETY: `cb` is valid; genetlink parsed and validated the dump
        // request's attributes against the family policy, and they live as
        // long as the dump.
        unsafe { attr_payload(rvs_dump_attr(self.cb.as_ptr(), kind as c_int, max)) }
    }

    /// The family the dump runs in.
    pub(crate) fn family(&self) -> &'static Family {
        self.family
    }

    /// The network namespace of the dumping socket.
    pub(crate) fn net(&self) -> NetRef<'a> {
        // SAFETY: `cb->skb` is the request skb, whose socket belongs to the
        // namespace the dump runs in.
        let net = unsafe { rvs_sock_net_of_skb((*self.cb.as_ptr()).skb) };
        // SAFETY: A socket always has a namespace, live while it is open.
        unsafe { NetRef::from_raw(NonNull::new_unchecked(net)) }
    }

    /// Writes one multi-part message with command `cmd` filled by `fill`.
    /// Returns `Ok(false)` without writing anything if it does not fit, so
    /// the caller stops and resumes in the next skb.
    pub(crate) fn entry(&mut self, cmd: u8, fill: impl FnOnce(&mut Msg<'_>) -> Result) -> Result<bool> {
        // SAFETY: `skb` and `cb` are valid by the type invariants.
        let hdr = unsafe {
            rvs_genlmsg_put_dump(
                self.skb.as_ptr(),
                self.cb.as_ptr(),
                self.family.as_raw(),
                bindings::NLM_F_MULTI as c_int,
                cmd,
            )
        };
        if hdr.is_null() {
            return Ok(false);
        }
        let mut msg = Msg {
            skb: self.skb,
            _p: PhantomData,
        };
        match fill(&mut msg) {
            Ok(()) => {
                // SAFETY: `hdr` is the header just put into `skb`.
                unsafe { bindings::genlmsg_end(self.skb.as_ptr(), hdr) };
                Ok(true)
            }
            Err(e) if e == EMSGSIZE => {
                // SAFETY: `hdr` is the header just put into `skb`; cancelling
                // trims the partial entry.
                unsafe { bindings::genlmsg_cancel(self.skb.as_ptr(), hdr) };
                Ok(false)
            }
            Err(e) => {
                // SAFETY: as above.
                unsafe { bindings::genlmsg_cancel(self.skb.as_ptr(), hdr) };
                Err(e)
            }
        }
    }
}

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    fn rvs_sock_net_of_skb(skb: *const bindings::sk_buff) -> *mut bindings::net;
    fn rvs_genlmsg_put_dump(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
        family: *const bindings::genl_family,
        flags: c_int,
        cmd: u8,
    ) -> *mut c_void;
}

unsafe extern "C" fn doit_trampoline<H: DoIt>(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    let Some(info) = NonNull::new(info) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `info` is the valid request of one of rvs's families.
    let family = unsafe { Family::from_registered((*info.as_ptr()).family) };
    // INVARIANT: genetlink calls `doit` with the valid, validated request.
    let mut req = Request {
        info,
        family,
        _p: PhantomData,
    };
    match H::doit(&mut req) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn dumpit_trampoline<D: DumpIt>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    let (Some(skb_nn), Some(cb_nn)) = (NonNull::new(skb), NonNull::new(cb)) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `cb` is a dump of one of rvs's families, started by genetlink
    // (which set up its dump info).
    let family = unsafe { Family::from_registered(rvs_dump_family(cb)) };
    // INVARIANT: genetlink calls `dumpit` with valid `skb` and `cb`.
    let mut dump = Dump {
        skb: skb_nn,
        cb: cb_nn,
        family,
        _p: PhantomData,
    };
    // The cursor lives in `cb->args`, which the core keeps between calls
    // of one dump and zeroes at its start.
    let mut cursor = [0i64; 4];
    // SAFETY: `cb` is valid; `args` has six `long`s, we use the first four.
    unsafe {
        let args = &(*cb).__bindgen_anon_1.args;
        for (c, a) in cursor.iter_mut().zip(args.iter()) {
            *c = *a as i64;
        }
    }
    let res = D::dumpit(&mut dump, &mut cursor);
    // SAFETY: as above.
    unsafe {
        let args = &mut (*cb).__bindgen_anon_1.args;
        for (a, c) in args.iter_mut().zip(cursor.iter()) {
            *a = *c as _;
        }
    }
    match res {
        // A finished dump returns 0; otherwise the length written, so
        // netlink calls us again for the rest.
        Ok(true) => 0,
        // SAFETY: `skb` is valid.
        Ok(false) => unsafe { (*skb).len as c_int },
        Err(e) => e.to_errno(),
    }
}
