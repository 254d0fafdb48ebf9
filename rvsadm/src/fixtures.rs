//! Tables the output formats' tests share.

use std::net::IpAddr;

use crate::model::{
    AddressFamily, Daemon, Dest, FwdMethod, Protocol, Service, SyncCounters, IP_VS_STATE_BACKUP,
    IP_VS_STATE_MASTER,
};

/// The address family of `addr`.
pub fn family(addr: &IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// A `-m` real server.
pub fn masq(addr: &str, port: u16, weight: i32) -> Dest {
    let addr: IpAddr = addr.parse().unwrap();
    Dest {
        af: family(&addr),
        addr,
        port,
        weight,
        fwd_method: FwdMethod::Masq,
        ..Dest::default()
    }
}

/// A `wlc` service; `fwmark` 0 for one addressed by `addr`:`port`.
pub fn wlc(protocol: Protocol, addr: &str, port: u16, fwmark: u32) -> Service {
    Service {
        protocol,
        addr: addr.parse().unwrap(),
        port,
        fwmark,
        sched_name: "wlc".into(),
        ..Service::default()
    }
}

/// A service of each protocol and a fwmark one, without real servers, in
/// the order a kernel listed them.
pub fn mixed_services() -> Vec<(Service, Vec<Dest>)> {
    vec![
        (wlc(Protocol::Tcp, "192.168.10.100", 80, 0), vec![]),
        (wlc(Protocol::Udp, "10.1.1.1", 53, 0), vec![]),
        (wlc(Protocol::Tcp, "0.0.0.0", 0, 7), vec![]),
        (wlc(Protocol::Sctp, "10.1.1.2", 80, 0), vec![]),
    ]
}

/// The sync daemons of scenario s6: a master and a backup, no counters.
pub fn s6_daemons() -> Vec<Daemon> {
    vec![
        Daemon {
            state: IP_VS_STATE_MASTER,
            mcast_ifn: "eth0".into(),
            syncid: 5,
            sync_maxlen: 1472,
            mcast_group: Some("224.0.0.81".parse().unwrap()),
            mcast_port: 8848,
            mcast_ttl: 1,
            ..Daemon::default()
        },
        Daemon {
            state: IP_VS_STATE_BACKUP,
            mcast_ifn: "eth1".into(),
            syncid: 7,
            mcast_group: Some("ff02::1234".parse().unwrap()),
            ..Daemon::default()
        },
    ]
}

/// The counters of scenario sync's master daemon.
pub fn master_counters() -> SyncCounters {
    SyncCounters {
        datagrams: Some(12),
        entries: Some(340),
        drop_queue_full: Some(0),
        drop_send_error: Some(0),
        last_seq: Some(11),
        resyncs: Some(1),
        resync_pending: Some(0),
        ..SyncCounters::default()
    }
}
