// SPDX-License-Identifier: GPL-2.0

//! Routes to where rvs sends packets: the IPv4 and IPv6 lookups
//! ([`route`]), the routes each real server keeps ([`RouteCache`], IPVS's
//! `dest_dst`), and the netdevice notifier that drops cached routes
//! through a device going down or away ([`RouteEvents`]). The kernel's
//! Rust bindings leave out `struct dst_entry`; its fields are read at
//! offsets C provides, so that a packet using a cached route makes no
//! call into C.
//!
//! C headers: [`include/net/dst.h`](srctree/include/net/dst.h),
//! [`include/net/route.h`](srctree/include/net/route.h),
//! [`include/net/ip6_route.h`](srctree/include/net/ip6_route.h)

use core::ffi::{c_int, c_uint, c_void};
use core::ptr::NonNull;

use kernel::{
    bindings,
    error::{from_err_ptr, to_result},
    ffi::c_ulong,
    list::{impl_list_arc_safe, impl_list_item, List, ListArc, ListLinks},
    prelude::*,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        Arc, GlobalGuard,
    },
    types::Opaque,
};

use crate::net::{in6, in6_bytes, NetRef, RTN_LOCAL};
use crate::rcu::{self, RcuBox, RcuCell, ReadSide};

/// `struct rvs_route_consts` (`rvs_helpers.h`, field for field): where
/// the fields rvs reads lie in kernel structures the bindings leave out,
/// and two netdevice events.
#[repr(C)]
struct Consts {
    dst_dev: usize,
    dst_ops: usize,
    dst_obsolete: usize,
    dst_error: usize,
    rtable_dst: usize,
    rt_type: usize,
    dev_flags: usize,
    netdev_down: c_ulong,
    netdev_unregister: c_ulong,
}

// `struct net` holds a zero-sized array bindgen flags as not FFI-safe;
// only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    static rvs_route_consts: Consts;
    fn rvs_dst_hold(dst: *mut bindings::dst_entry);
    fn rvs_rt6_get_cookie(dst: *const bindings::dst_entry) -> u32;
    fn rvs_ip6_dst_idev_dev(dst: *const bindings::dst_entry) -> *mut bindings::net_device;
    fn rvs_netdev_notifier_info_to_dev(info: *const c_void) -> *mut bindings::net_device;
    // Exported, but outside the kernel's bindings (<net/dst.h>,
    // <net/route.h>, whose `struct rtable *` is opaque here, <net/ip6_route.h>,
    // <net/addrconf.h>, <linux/netdevice.h>).
    fn dst_release(dst: *mut bindings::dst_entry);
    fn ip_route_output_flow(
        net: *mut bindings::net,
        flp: *mut bindings::flowi4,
        sk: *const bindings::sock,
    ) -> *mut c_void;
    fn ip6_route_output_flags(
        net: *mut bindings::net,
        sk: *const bindings::sock,
        fl6: *mut bindings::flowi6,
        flags: c_int,
    ) -> *mut bindings::dst_entry;
    fn ipv6_dev_get_saddr(
        net: *mut bindings::net,
        dev: *const bindings::net_device,
        daddr: *const bindings::in6_addr,
        srcprefs: c_uint,
        saddr: *mut bindings::in6_addr,
    ) -> c_int;
    fn register_netdevice_notifier(nb: *mut bindings::notifier_block) -> c_int;
    fn unregister_netdevice_notifier(nb: *mut bindings::notifier_block) -> c_int;
}

fn consts() -> &'static Consts {
    // SAFETY: A constant that C initialises statically and nothing writes.
    unsafe { &*core::ptr::addr_of!(rvs_route_consts) }
}

/// Reads the `T` at `offset` bytes into the structure at `base`, as
/// `READ_ONCE` (some of these fields change under readers).
///
/// # Safety
///
/// `base` is valid, with a field of type `T` at `offset`.
unsafe fn read_field<T: Copy>(base: *const c_void, offset: usize) -> T {
    // SAFETY: As this function's.
    unsafe { base.cast::<u8>().add(offset).cast::<T>().read_volatile() }
}

/// A route: the kernel's `struct dst_entry`.
///
/// # Invariants
///
/// Only borrowed from a live route, which stays live for the borrow (a
/// reference is held, or the borrow ends with the RCU read-side section
/// the route was found in).
#[repr(transparent)]
struct DstEntry(Opaque<bindings::dst_entry>);

// SAFETY: The kernel shares routes between CPUs: the reference count is
// atomic, and the fields rvs reads are read as `READ_ONCE`.
unsafe impl Send for DstEntry {}
// SAFETY: As above.
unsafe impl Sync for DstEntry {}

// SAFETY: `dst_hold` and `dst_release` are the route's reference count,
// and the kernel frees a route only after its last `dst_release`.
unsafe impl AlwaysRefCounted for DstEntry {
    fn inc_ref(&self) {
        // SAFETY: The route is live and already referenced (type invariants).
        unsafe { rvs_dst_hold(self.as_ptr()) }
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a reference it holds.
        unsafe { dst_release(obj.cast().as_ptr()) }
    }
}

impl DstEntry {
    fn as_ptr(&self) -> *mut bindings::dst_entry {
        self.0.get()
    }

    /// `dst->ops`: the family's operations, which outlive the route.
    fn ops(&self) -> *const bindings::dst_ops {
        // SAFETY: The route is live (type invariants); `ops` is a pointer.
        unsafe { read_field(self.as_ptr().cast(), consts().dst_ops) }
    }

    /// `dst_check`: false if a routing change since the route was cached
    /// with `cookie` has made it stale.
    fn is_current(&self, cookie: u32) -> bool {
        // SAFETY: The route is live; `obsolete` is a short.
        let obsolete: i16 = unsafe { read_field(self.as_ptr().cast(), consts().dst_obsolete) };
        if obsolete == 0 {
            return true;
        }
        // SAFETY: The operations are valid while the route is; a field read
        // through the pointer, not a reference (C writes other fields).
        match unsafe { (*self.ops()).check } {
            // SAFETY: The family's check, on a live route of the family.
            Some(check) => !unsafe { check(self.as_ptr(), cookie) }.is_null(),
            None => false,
        }
    }

    /// `dst_mtu`: the path MTU. Every family has the operation; `None`
    /// without it.
    fn mtu(&self) -> Option<u32> {
        // SAFETY: As in `is_current`.
        let mtu = unsafe { (*self.ops()).mtu }?;
        // SAFETY: The family's operation, on a live route of the family.
        Some(unsafe { mtu(self.as_ptr()) })
    }

    /// `dst->error` (an IPv6 lookup's failure is a route that has one).
    fn error(&self) -> i16 {
        // SAFETY: The route is live; `error` is a short.
        unsafe { read_field(self.as_ptr().cast(), consts().dst_error) }
    }

    /// `dst_dev`: the device the route sends through.
    fn dev(&self) -> *mut bindings::net_device {
        // SAFETY: The route is live; `dev` is a pointer.
        unsafe { read_field(self.as_ptr().cast(), consts().dst_dev) }
    }

    /// The route delivers to this host: an IPv4 one of type `RTN_LOCAL`,
    /// an IPv6 one through a loopback device (IPVS's
    /// `__ip_vs_is_local_route6`).
    fn is_local(&self, v6: bool) -> bool {
        if v6 {
            let dev = self.dev();
            // SAFETY: The route holds its device; `flags` is an unsigned int.
            !dev.is_null()
                && unsafe { read_field::<u32>(dev.cast(), consts().dev_flags) }
                    & bindings::net_device_flags_IFF_LOOPBACK
                    != 0
        } else {
            // SAFETY: An IPv4 route is the `dst` of a `struct rtable`,
            // whose `rt_type`, a u16, lies `rt_type` bytes after it.
            let rt_type: u16 = unsafe { read_field(self.as_ptr().cast(), consts().rt_type) };
            c_uint::from(rt_type) == RTN_LOCAL
        }
    }

    /// The route holds `dev`: as its device or, for IPv6, through its
    /// `inet6_dev`, which keeps the device when the kernel moves a dying
    /// device's routes to `blackhole_netdev`.
    fn holds(&self, dev: *const bindings::net_device) -> bool {
        if self.dev().cast_const() == dev {
            return true;
        }
        // SAFETY: As in `is_current`.
        if c_uint::from(unsafe { (*self.ops()).family }) != bindings::AF_INET6 {
            return false;
        }
        // SAFETY: A live IPv6 route.
        unsafe { rvs_ip6_dst_idev_dev(self.as_ptr()) }.cast_const() == dev
    }

    /// `ip_route_output_key`: the IPv4 route for `fl4`, which the lookup
    /// completes (its source address).
    fn output4(net: NetRef<'_>, fl4: &mut bindings::flowi4) -> Option<ARef<Self>> {
        // SAFETY: `net` is live, `fl4` a flow; no socket.
        let rt = unsafe { ip_route_output_flow(net.as_ptr(), fl4, core::ptr::null()) };
        let rt = NonNull::new(from_err_ptr(rt).ok()?)?;
        // SAFETY: The lookup gave us a reference on the `struct rtable`,
        // whose route lies `rtable_dst` bytes into it.
        Some(unsafe { ARef::from_raw(rt.byte_add(consts().rtable_dst).cast::<Self>()) })
    }

    /// `ip6_route_output`: the IPv6 route for `fl6`.
    fn output6(net: NetRef<'_>, fl6: &mut bindings::flowi6) -> Option<ARef<Self>> {
        // SAFETY: `net` is live, `fl6` a flow; no socket.
        let dst = unsafe { ip6_route_output_flags(net.as_ptr(), core::ptr::null(), fl6, 0) };
        // SAFETY: The lookup always gives us a reference on a route; on
        // failure one with an error (released with the `ARef`).
        let dst = unsafe { ARef::from_raw(NonNull::new(dst)?.cast::<Self>()) };
        (dst.error() == 0).then_some(dst)
    }

    /// `ipv6_dev_get_saddr`: the source address an IPv6 route to `daddr`
    /// takes, by its device.
    fn source6(&self, net: NetRef<'_>, daddr: &bindings::in6_addr) -> Option<[u8; 16]> {
        let mut saddr = bindings::in6_addr::default();
        // SAFETY: A live IPv6 route; the device may be null (no device).
        let found = unsafe {
            let dev = rvs_ip6_dst_idev_dev(self.as_ptr());
            ipv6_dev_get_saddr(net.as_ptr(), dev, daddr, 0, &mut saddr)
        };
        (found == 0).then(|| in6_bytes(&saddr))
    }

    /// `rt6_get_cookie`: what the check of an IPv6 route tells a routing
    /// change by.
    fn rt6_cookie(&self) -> u32 {
        // SAFETY: A live IPv6 route.
        unsafe { rvs_rt6_get_cookie(self.as_ptr()) }
    }
}

/// A route for a packet, valid for the RCU read-side section `'r`: held
/// (a reference of ours), or borrowed from a real server's cache for that
/// section.
pub(crate) struct Dst<'r> {
    route: Hold<'r>,
    /// Path MTU of the route.
    pub(crate) mtu: u32,
    /// The destination is an address of this host.
    pub(crate) local: bool,
}

/// How a [`Dst`] has its route.
enum Hold<'r> {
    /// A reference of ours.
    Own(ARef<DstEntry>),
    /// A cache's, for the read-side section `'r`.
    Rcu(&'r DstEntry),
}

impl<'r> Dst<'r> {
    fn new(route: Hold<'r>, v6: bool) -> Option<Self> {
        let entry = match &route {
            Hold::Own(r) => &**r,
            Hold::Rcu(r) => *r,
        };
        let mtu = entry.mtu()?;
        let local = entry.is_local(v6);
        Some(Self { route, mtu, local })
    }

    /// The route, for a packet to take, and whether a reference of ours
    /// comes with it. Without one it is valid only until the read-side
    /// section `'r` ends, inside which the packet must be sent on (the
    /// stack takes a reference if it keeps the packet longer).
    pub(crate) fn into_raw(self) -> (NonNull<bindings::dst_entry>, bool) {
        match self.route {
            Hold::Own(r) => (ARef::into_raw(r).cast(), true),
            Hold::Rcu(r) => (NonNull::from(r).cast(), false),
        }
    }
}

/// A route as a real server's cache keeps it.
struct CachedRoute {
    /// The cache's own reference.
    dst: ARef<DstEntry>,
    /// What the route's check tells a routing change by (IPv6's; 0 for
    /// IPv4, whose check needs none).
    cookie: u32,
    /// The source address the lookup picked; IPv4 in the first 4 bytes.
    saddr: [u8; 16],
}

/// One cache's route, on the list of every cache.
#[pin_data]
struct RouteSlot {
    /// Read under RCU, replaced under [`ROUTE_CACHES`].
    route: RcuCell<CachedRoute>,
    #[pin]
    links: ListLinks,
}

impl_list_arc_safe! {
    impl ListArcSafe<0> for RouteSlot { untracked; }
}
impl_list_item! {
    impl ListItem<0> for RouteSlot { using ListLinks { self.links }; }
}

kernel::sync::global_lock! {
    // SAFETY: `RouteEvents::register` initialises it at module load,
    // before any real server, and so any cache, can exist.
    unsafe(uninit) static ROUTE_CACHES: SpinLockIrq<List<RouteSlot>> = List::new();
}

impl RouteSlot {
    /// Replaces the route. The lock keeps a packet's replacement from
    /// coming between the notifier's look at the route and its dropping
    /// it.
    fn replace(&self, route: Option<RcuBox<CachedRoute>>, _caches: &GlobalGuard<ROUTE_CACHES>) {
        self.route.replace(route);
    }
}

/// One real server's route of one kind (plain, or with a known next hop),
/// cached as IPVS keeps its `dest_dst`: one route for every CPU, read
/// under RCU and replaced whole, that packets use without taking a
/// reference. A routing change (the route's cookie) makes it stale, and
/// [`RouteEvents`] drops it when its device goes down or away, as a held
/// IPv6 route can keep its device from unregistering. It saves a route
/// lookup per packet, and for direct routing, whose routes the kernel does
/// not cache, the allocation and freeing of a route per packet.
pub(crate) struct RouteCache {
    slot: Arc<RouteSlot>,
    /// The family of the routes it caches.
    v6: bool,
}

impl RouteCache {
    /// An empty cache for routes of one family (`v6`).
    pub(crate) fn new(v6: bool) -> Result<Self> {
        let slot = ListArc::pin_init(
            try_pin_init!(RouteSlot {
                route: RcuCell::new(),
                links <- ListLinks::new(),
            }),
            GFP_KERNEL,
        )?;
        let shared = slot.clone_arc();
        ROUTE_CACHES.lock().push_back(slot);
        Ok(Self { slot: shared, v6 })
    }

    /// The cached route if it is still current, for the read-side section
    /// `rcu` proves.
    fn get<'r>(&self, rcu: &'r ReadSide) -> Option<&'r CachedRoute> {
        self.slot
            .route
            .get(rcu)
            .filter(|r| r.dst.is_current(r.cookie))
    }

    /// Keeps `dst`, with its cookie and source, for the next packets. On
    /// the packet path: if it cannot be allocated, the next packet looks
    /// the route up again.
    fn set(&self, dst: &ARef<DstEntry>, cookie: u32, saddr: [u8; 16]) {
        let route = CachedRoute {
            dst: dst.clone(),
            cookie,
            saddr,
        };
        if let Ok(route) = RcuBox::new(route, GFP_ATOMIC) {
            self.slot.replace(Some(route), &ROUTE_CACHES.lock());
        }
    }
}

impl Drop for RouteCache {
    fn drop(&mut self) {
        let mut caches = ROUTE_CACHES.lock();
        // SAFETY: `ROUTE_CACHES` is the only list of `RouteSlot`s.
        let listed = unsafe { caches.remove(&self.slot) };
        drop(caches);
        // The slot goes with `self.slot`, its route a grace period later.
        drop(listed);
    }
}

/// The cache a lookup may use: one of its family, and only for a lookup
/// with no mark, the lookup the cache stands for.
fn usable(cache: Option<&RouteCache>, mark: u32, v6: bool) -> Option<&RouteCache> {
    cache.filter(|c| mark == 0 && c.v6 == v6)
}

/// Looks up the route to `daddr` (`v6`, else IPv4 in the first 4 bytes),
/// with the source address it picks (likewise; IPv6: any if none).
/// `known_nh`: `FLOWI_FLAG_KNOWN_NH`.
fn lookup(
    net: NetRef<'_>,
    v6: bool,
    daddr: &[u8; 16],
    mark: u32,
    known_nh: bool,
) -> Option<(ARef<DstEntry>, [u8; 16])> {
    let common = bindings::flowi_common {
        flowic_mark: mark,
        flowic_flags: if known_nh {
            bindings::FLOWI_FLAG_KNOWN_NH as u8
        } else {
            0
        },
        ..Default::default()
    };
    if v6 {
        let mut fl6 = bindings::flowi6 {
            __fl_common: common,
            daddr: in6(daddr),
            ..Default::default()
        };
        let dst = DstEntry::output6(net, &mut fl6)?;
        let saddr = dst.source6(net, &fl6.daddr).unwrap_or_default();
        Some((dst, saddr))
    } else {
        let [a, b, c, d, ..] = *daddr;
        let mut fl4 = bindings::flowi4 {
            __fl_common: common,
            daddr: u32::from_ne_bytes([a, b, c, d]),
            ..Default::default()
        };
        let dst = DstEntry::output4(net, &mut fl4)?;
        let [a, b, c, d] = fl4.saddr.to_ne_bytes();
        Some((dst, [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    }
}

/// Routes a packet to `daddr` (`v6`, else IPv4 in the first 4 bytes); also
/// returns the source address the route would use (likewise; IPv6: any if
/// none). `mark`: the packet's firewall mark, for policy routing.
/// `known_nh`: `daddr` is the next hop even if the packet goes to another
/// address (direct routing). `cache`: where this lookup's result (for this
/// `daddr` and `known_nh`, with no mark) is kept.
pub(crate) fn route<'r>(
    rcu: &'r ReadSide,
    net: NetRef<'_>,
    cache: Option<&RouteCache>,
    v6: bool,
    daddr: &[u8; 16],
    mark: u32,
    known_nh: bool,
) -> Option<(Dst<'r>, [u8; 16])> {
    let cache = usable(cache, mark, v6);
    if let Some(r) = cache.and_then(|c| c.get(rcu)) {
        return Some((Dst::new(Hold::Rcu(&r.dst), v6)?, r.saddr));
    }
    let (dst, saddr) = lookup(net, v6, daddr, mark, known_nh)?;
    if let Some(cache) = cache {
        // IPv4's check needs no cookie.
        let cookie = if v6 { dst.rt6_cookie() } else { 0 };
        cache.set(&dst, cookie, saddr);
    }
    Some((Dst::new(Hold::Own(dst), v6)?, saddr))
}

/// The registered notifier block.
struct Notifier(Opaque<bindings::notifier_block>);

// SAFETY: Only the kernel writes the block (its chain link), under the
// chain's lock; rvs hands it over and takes it back.
unsafe impl Sync for Notifier {}

static ROUTE_NOTIFIER: Notifier = Notifier(Opaque::new(bindings::notifier_block {
    notifier_call: Some(route_dev_event),
    next: core::ptr::null_mut(),
    priority: 0,
}));

/// A device going down drops the routes through it. One unregistering
/// drops every cached route: by then the kernel may have moved a route to
/// `blackhole_netdev`, and what it still holds of the device is not always
/// visible. `NETDEV_UNREGISTER` comes again every second while the device
/// is held, so a route cached just after the first event goes too.
///
/// # Safety
///
/// Called by the netdevice notifier chain, with the event's
/// `netdev_notifier_info` as `info`.
unsafe extern "C" fn route_dev_event(
    _nb: *mut bindings::notifier_block,
    event: c_ulong,
    info: *mut c_void,
) -> c_int {
    let unregister = event == consts().netdev_unregister;
    if unregister || event == consts().netdev_down {
        // SAFETY: `info` is the event's `netdev_notifier_info`.
        let dev = unsafe { rvs_netdev_notifier_info_to_dev(info) };
        drop_routes(|dst| unregister || dst.holds(dev));
    }
    bindings::NOTIFY_DONE as c_int
}

/// Drops every cached route `through` picks.
fn drop_routes(through: impl Fn(&DstEntry) -> bool) {
    let rcu = rcu::read_lock();
    let caches = ROUTE_CACHES.lock();
    for slot in caches.iter() {
        if slot.route.get(&rcu).is_some_and(|r| through(&r.dst)) {
            slot.replace(None, &caches);
        }
    }
}

/// The netdevice notifier that drops cached routes through a device going
/// down or away (registered while rvs is loaded).
pub(crate) struct RouteEvents(());

impl RouteEvents {
    /// Registers the notifier, and readies the list of caches.
    ///
    /// # Safety
    ///
    /// Called once, at module load, before any real server (and so any
    /// [`RouteCache`]) can exist.
    pub(crate) unsafe fn register() -> Result<Self> {
        // SAFETY: Once, before any cache uses the lock (as this function's).
        unsafe { ROUTE_CACHES.init() };
        // SAFETY: The block is static; unregistered on drop.
        to_result(unsafe { register_netdevice_notifier(ROUTE_NOTIFIER.0.get()) })?;
        Ok(Self(()))
    }
}

impl Drop for RouteEvents {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`.
        unsafe { unregister_netdevice_notifier(ROUTE_NOTIFIER.0.get()) };
    }
}
