// SPDX-License-Identifier: GPL-2.0

//! The `rvs` generic netlink family: name, version, commands and attributes.
//!
//! These numbers are defined here once and used by both rvs.ko and rvsadm.
//! They mirror the command and attribute layout of IPVS's generic netlink
//! interface (`include/uapi/linux/ip_vs.h`) so that an IPVS-compatible family
//! can later share the same handlers; the family itself is rvs's own.

/// Generic netlink family name.
pub const FAMILY_NAME: &str = "rvs";
/// The same name, NUL-terminated, for the kernel's `genl_family`.
pub const FAMILY_NAME_NUL: &[u8] = b"rvs\0";
/// Generic netlink family version.
pub const FAMILY_VERSION: u8 = 1;

/// The kernel IPVS family's name, which rvs also serves with `ipvs_abi=1`.
pub const IPVS_FAMILY_NAME: &str = "IPVS";
/// The same name, NUL-terminated.
pub const IPVS_FAMILY_NAME_NUL: &[u8] = b"IPVS\0";
/// IPVS's generic netlink family version (`IPVS_GENL_VERSION`).
pub const IPVS_FAMILY_VERSION: u8 = 1;

/// The IPVS protocol version rvs implements, as IPVS encodes it
/// (major << 16 | minor << 8 | patch): 1.2.1, what ipvsadm prints.
pub const IPVS_VERSION_CODE: u32 = 0x01_02_01;

/// Splits a version code into (major, minor, patch).
pub const fn version_parts(code: u32) -> (u32, u32, u32) {
    ((code >> 16) & 0xff, (code >> 8) & 0xff, code & 0xff)
}

/// Commands (`genlmsghdr.cmd`).
pub mod cmd {
    pub const UNSPEC: u8 = 0;
    pub const NEW_SERVICE: u8 = 1;
    pub const SET_SERVICE: u8 = 2;
    pub const DEL_SERVICE: u8 = 3;
    pub const GET_SERVICE: u8 = 4;
    pub const NEW_DEST: u8 = 5;
    pub const SET_DEST: u8 = 6;
    pub const DEL_DEST: u8 = 7;
    pub const GET_DEST: u8 = 8;
    pub const NEW_DAEMON: u8 = 9;
    pub const DEL_DAEMON: u8 = 10;
    pub const GET_DAEMON: u8 = 11;
    pub const SET_CONFIG: u8 = 12;
    pub const GET_CONFIG: u8 = 13;
    /// Only used as the command of GET_INFO replies.
    pub const SET_INFO: u8 = 14;
    pub const GET_INFO: u8 = 15;
    pub const ZERO: u8 = 16;
    pub const FLUSH: u8 = 17;
    /// rvs extension: dump the connection table.
    pub const GET_CONN: u8 = 18;
    /// rvs extension: a full resync. With [`super::daemon_attr::STATE`]
    /// master, the master daemon sends its whole table again; with backup,
    /// the backup daemon asks every master on its group for theirs.
    pub const RESYNC_DAEMON: u8 = 19;
    pub const MAX: u8 = RESYNC_DAEMON;
}

/// Top-level attributes of every command.
pub mod cmd_attr {
    pub const UNSPEC: u16 = 0;
    /// Nested [`super::svc_attr`].
    pub const SERVICE: u16 = 1;
    /// Nested [`super::dest_attr`].
    pub const DEST: u16 = 2;
    /// Nested [`super::daemon_attr`].
    pub const DAEMON: u16 = 3;
    /// u32, seconds.
    pub const TIMEOUT_TCP: u16 = 4;
    /// u32, seconds.
    pub const TIMEOUT_TCP_FIN: u16 = 5;
    /// u32, seconds.
    pub const TIMEOUT_UDP: u16 = 6;
    /// rvs extension: nested [`super::conn_attr`], in GET_CONN dumps.
    pub const CONN: u16 = 7;
    pub const MAX: u16 = CONN;
}

/// rvs extension: attributes of one connection-table entry, nested in
/// [`cmd_attr::CONN`] (GET_CONN dumps; what ipvsadm reads from
/// `/proc/net/ip_vs_conn`).
pub mod conn_attr {
    pub const UNSPEC: u16 = 0;
    /// u16: AF_INET or AF_INET6 (of the client side).
    pub const AF: u16 = 1;
    /// u16: IPPROTO_TCP, IPPROTO_UDP, or 0 for a firewall-mark template.
    pub const PROTOCOL: u16 = 2;
    /// 16 bytes each, IPv4 in the first four; ports network order.
    pub const CADDR: u16 = 3;
    pub const CPORT: u16 = 4;
    pub const VADDR: u16 = 5;
    pub const VPORT: u16 = 6;
    pub const DADDR: u16 = 7;
    pub const DPORT: u16 = 8;
    /// u16: the real server's family.
    pub const DEST_AF: u16 = 9;
    /// NUL-terminated state name, as IPVS shows it ("ESTABLISHED", "UDP").
    pub const STATE: u16 = 10;
    /// u32: milliseconds until the entry expires.
    pub const EXPIRES_MS: u16 = 11;
    /// u32: connection flags (forwarding method, template, ...).
    pub const FLAGS: u16 = 12;
    /// u32: firewall mark of a firewall-mark service's entry.
    pub const FWMARK: u16 = 13;
    pub const MAX: u16 = FWMARK;
}

/// Attributes nested in [`cmd_attr::SERVICE`].
pub mod svc_attr {
    pub const UNSPEC: u16 = 0;
    /// u16: AF_INET or AF_INET6.
    pub const AF: u16 = 1;
    /// u16: IPPROTO_TCP or IPPROTO_UDP.
    pub const PROTOCOL: u16 = 2;
    /// 4 or 16 bytes, network order.
    pub const ADDR: u16 = 3;
    /// u16, network order.
    pub const PORT: u16 = 4;
    /// u32.
    pub const FWMARK: u16 = 5;
    /// NUL-terminated string, at most 15 characters.
    pub const SCHED_NAME: u16 = 6;
    /// struct { u32 flags; u32 mask; }.
    pub const FLAGS: u16 = 7;
    /// u32, persistence timeout in seconds.
    pub const TIMEOUT: u16 = 8;
    /// u32: netmask (IPv4) or prefix length (IPv6).
    pub const NETMASK: u16 = 9;
    /// Nested [`super::stats_attr`], 32-bit counters.
    pub const STATS: u16 = 10;
    /// NUL-terminated string: persistence engine.
    pub const PE_NAME: u16 = 11;
    /// Nested [`super::stats_attr`], 64-bit counters.
    pub const STATS64: u16 = 12;
    pub const MAX: u16 = STATS64;
}

/// Attributes nested in [`cmd_attr::DEST`].
pub mod dest_attr {
    pub const UNSPEC: u16 = 0;
    /// 4 or 16 bytes, network order.
    pub const ADDR: u16 = 1;
    /// u16, network order.
    pub const PORT: u16 = 2;
    /// u32: one of [`super::fwd`].
    pub const FWD_METHOD: u16 = 3;
    /// u32, 0..=65535.
    pub const WEIGHT: u16 = 4;
    /// u32.
    pub const U_THRESH: u16 = 5;
    /// u32.
    pub const L_THRESH: u16 = 6;
    /// u32, read-only.
    pub const ACTIVE_CONNS: u16 = 7;
    /// u32, read-only.
    pub const INACT_CONNS: u16 = 8;
    /// u32, read-only.
    pub const PERSIST_CONNS: u16 = 9;
    pub const STATS: u16 = 10;
    /// u16: AF_INET or AF_INET6.
    pub const ADDR_FAMILY: u16 = 11;
    pub const STATS64: u16 = 12;
    /// u8, one of [`super::tun_type`].
    pub const TUN_TYPE: u16 = 13;
    /// be16: GUE's UDP destination port.
    pub const TUN_PORT: u16 = 14;
    /// u16, [`super::tun_flags`] bits.
    pub const TUN_FLAGS: u16 = 15;
    pub const MAX: u16 = TUN_FLAGS;
}

/// Attributes nested in [`cmd_attr::DAEMON`].
pub mod daemon_attr {
    pub const UNSPEC: u16 = 0;
    pub const STATE: u16 = 1;
    pub const MCAST_IFN: u16 = 2;
    pub const SYNC_ID: u16 = 3;
    pub const SYNC_MAXLEN: u16 = 4;
    pub const MCAST_GROUP: u16 = 5;
    pub const MCAST_GROUP6: u16 = 6;
    pub const MCAST_PORT: u16 = 7;
    pub const MCAST_TTL: u16 = 8;
    /// The last attribute the IPVS family knows.
    pub const IPVS_MAX: u16 = MCAST_TTL;
    /// rvs extensions, in the `rvs` family's GET_DAEMON replies only: the
    /// daemon's counters (u64 unless said otherwise).
    pub const PAD: u16 = 9;
    /// Datagrams and entries sent (master) or received (backup).
    pub const DATAGRAMS: u16 = 10;
    pub const ENTRIES: u16 = 11;
    /// Master: entries dropped because the send queue was full
    /// (`sync_qlen_max`), or a send failed.
    pub const DROP_QUEUE_FULL: u16 = 12;
    pub const DROP_SEND_ERROR: u16 = 13;
    /// Backup: datagrams dropped as malformed, entries dropped as invalid,
    /// datagrams of another sync id, entries the table had no room for.
    pub const DROP_BAD_DATAGRAM: u16 = 14;
    pub const DROP_BAD_ENTRY: u16 = 15;
    pub const DROP_SYNCID: u16 = 16;
    pub const DROP_NO_ROOM: u16 = 17;
    /// Backup: datagrams missing from an rvs master's sequence (gaps).
    pub const LOST_DATAGRAMS: u16 = 18;
    /// u32: last sequence number sent (master) or seen from an rvs master
    /// (backup).
    pub const LAST_SEQ: u16 = 19;
    /// Full resyncs sent (master) or requested (backup).
    pub const RESYNCS: u16 = 20;
    /// u32: entries still to send in the running full resync (master).
    pub const RESYNC_PENDING: u16 = 21;
    pub const MAX: u16 = RESYNC_PENDING;
}

/// Attributes nested in the STATS and STATS64 attributes.
pub mod stats_attr {
    pub const UNSPEC: u16 = 0;
    pub const CONNS: u16 = 1;
    pub const INPKTS: u16 = 2;
    pub const OUTPKTS: u16 = 3;
    pub const INBYTES: u16 = 4;
    pub const OUTBYTES: u16 = 5;
    pub const CPS: u16 = 6;
    pub const INPPS: u16 = 7;
    pub const OUTPPS: u16 = 8;
    pub const INBPS: u16 = 9;
    pub const OUTBPS: u16 = 10;
    pub const PAD: u16 = 11;
    pub const MAX: u16 = PAD;
}

/// Sync daemon states (`IP_VS_STATE_*`): DAEMON_ATTR_STATE's values, and
/// the socket options'.
pub mod daemon_state {
    pub const MASTER: u32 = 1;
    pub const BACKUP: u32 = 2;
}

/// Attributes of GET_INFO replies.
pub mod info_attr {
    pub const UNSPEC: u16 = 0;
    /// u32: IPVS protocol version code, see [`super::IPVS_VERSION_CODE`].
    pub const VERSION: u16 = 1;
    /// u32: number of buckets in the connection hash table.
    pub const CONN_TAB_SIZE: u16 = 2;
    /// rvs extension: NUL-terminated module version string.
    pub const MODULE_VERSION: u16 = 3;
    pub const MAX: u16 = MODULE_VERSION;
}

/// Forwarding methods ([`dest_attr::FWD_METHOD`]), as IPVS's
/// `IP_VS_CONN_F_*` values.
pub mod fwd {
    pub const MASQ: u32 = 0;
    pub const LOCALNODE: u32 = 1;
    pub const TUNNEL: u32 = 2;
    pub const DROUTE: u32 = 3;
    /// Cache bypass: a connection's packets go to their own destination
    /// (never a real server's method; see `cache_bypass`).
    pub const BYPASS: u32 = 4;
    pub const MASK: u32 = 7;
}

/// Tunnel encapsulations ([`dest_attr::TUN_TYPE`]).
pub mod tun_type {
    pub const IPIP: u8 = 0;
    pub const GUE: u8 = 1;
    pub const GRE: u8 = 2;
}

/// Tunnel checksum options ([`dest_attr::TUN_FLAGS`]); none is "nocsum".
pub mod tun_flags {
    pub const NOCSUM: u16 = 0;
    pub const CSUM: u16 = 1 << 0;
    pub const REMCSUM: u16 = 1 << 1;
    pub const ALL: u16 = CSUM | REMCSUM;
}

/// Service flags ([`svc_attr::FLAGS`]).
pub mod svc_flags {
    pub const PERSISTENT: u32 = 0x0001;
    pub const HASHED: u32 = 0x0002;
    pub const ONEPACKET: u32 = 0x0004;
    pub const SCHED1: u32 = 0x0008;
    pub const SCHED2: u32 = 0x0010;
    pub const SCHED3: u32 = 0x0020;
    pub const SH_FALLBACK: u32 = SCHED1;
    pub const SH_PORT: u32 = SCHED2;
    pub const MH_FALLBACK: u32 = SCHED1;
    pub const MH_PORT: u32 = SCHED2;
}

/// Longest scheduler name, including the terminating NUL.
pub const SCHED_NAME_MAXLEN: usize = 16;

/// Default connection table size: 2^12 buckets, as IPVS's default
/// `conn_tab_bits`.
pub const DEFAULT_CONN_TAB_BITS: u32 = 12;
/// Accepted range of the `conn_tab_bits` module parameter (IPVS: 8..=20).
pub const CONN_TAB_BITS_MIN: u32 = 8;
pub const CONN_TAB_BITS_MAX: u32 = 20;

/// Clamps a requested `conn_tab_bits` into the accepted range, as IPVS
/// does, and returns the number of buckets.
pub const fn conn_tab_size(bits: u32) -> u32 {
    let b = if bits < CONN_TAB_BITS_MIN {
        CONN_TAB_BITS_MIN
    } else if bits > CONN_TAB_BITS_MAX {
        CONN_TAB_BITS_MAX
    } else {
        bits
    };
    1 << b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_code_is_1_2_1() {
        assert_eq!(version_parts(IPVS_VERSION_CODE), (1, 2, 1));
    }

    #[test]
    fn conn_tab_size_clamps() {
        assert_eq!(conn_tab_size(12), 4096);
        assert_eq!(conn_tab_size(0), 256);
        assert_eq!(conn_tab_size(31), 1 << 20);
    }

    #[test]
    fn family_name_forms_agree() {
        assert_eq!(
            FAMILY_NAME_NUL,
            [FAMILY_NAME.as_bytes(), b"\0"].concat().as_slice()
        );
    }
}
