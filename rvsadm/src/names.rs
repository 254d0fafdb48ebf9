//! Host and service names, as ipvsadm looks them up (`gethostbyname`,
//! `getservbyname` and their reverses): `/etc/hosts`, `/etc/services` and
//! the resolver.

use std::net::{IpAddr, Ipv4Addr};

use crate::model::Protocol;

/// The name services ipvsadm uses: host and service (port) names in both
/// directions.
pub trait NameService {
    /// `gethostbyname`: first IPv4 address of a host name.
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr>;
    /// `getservbyname(name, proto)`.
    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16>;
    /// `gethostbyaddr`: the host's official name.
    fn addr_to_host(&self, addr: &IpAddr) -> Option<String>;
    /// `getservbyport(port, proto)`.
    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String>;
}

/// The whitespace-separated fields of each line of a `/etc/services` or
/// `/etc/hosts` text, comments (from `#`) left out.
fn fields(text: &str) -> impl Iterator<Item = std::str::SplitWhitespace<'_>> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").split_whitespace())
}

/// Parsed `/etc/services`: (name, aliases, port, proto) in file order.
#[derive(Clone, Debug, Default)]
pub struct ServicesDb {
    entries: Vec<(Vec<String>, u16, String)>,
}

impl ServicesDb {
    pub fn parse(text: &str) -> ServicesDb {
        let mut entries = Vec::new();
        for mut it in fields(text) {
            let name = match it.next() {
                Some(n) => n,
                None => continue,
            };
            let pp = match it.next() {
                Some(p) => p,
                None => continue,
            };
            let (port, proto) = match pp.split_once('/') {
                Some((p, pr)) => (p, pr),
                None => continue,
            };
            let port: u16 = match port.parse() {
                Ok(p) => p,
                Err(_) => continue,
            };
            let mut names = vec![name.to_string()];
            names.extend(it.map(|s| s.to_string()));
            entries.push((names, port, proto.to_string()));
        }
        ServicesDb { entries }
    }
    /// Load /etc/services (empty when unreadable).
    pub fn load() -> ServicesDb {
        ServicesDb::parse(&std::fs::read_to_string("/etc/services").unwrap_or_default())
    }
    pub fn port_by_name(&self, name: &str, proto: &str) -> Option<u16> {
        self.entries
            .iter()
            .find(|(names, _, p)| p == proto && names.iter().any(|n| n == name))
            .map(|(_, port, _)| *port)
    }
    pub fn name_by_port(&self, port: u16, proto: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(_, pt, p)| *pt == port && p == proto)
            .map(|(names, _, _)| names[0].clone())
    }
}

/// Parsed `/etc/hosts`: (address, names) in file order.
#[derive(Clone, Debug, Default)]
pub struct HostsDb {
    entries: Vec<(IpAddr, Vec<String>)>,
}

impl HostsDb {
    pub fn parse(text: &str) -> HostsDb {
        let mut entries = Vec::new();
        for mut it in fields(text) {
            let addr = match it.next().and_then(|a| a.parse::<IpAddr>().ok()) {
                Some(a) => a,
                None => continue,
            };
            let names: Vec<String> = it.map(|s| s.to_string()).collect();
            if names.is_empty() {
                continue;
            }
            entries.push((addr, names));
        }
        HostsDb { entries }
    }
    pub fn load() -> HostsDb {
        HostsDb::parse(&std::fs::read_to_string("/etc/hosts").unwrap_or_default())
    }
    pub fn name_by_addr(&self, addr: &IpAddr) -> Option<String> {
        self.entries
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, n)| n[0].clone())
    }
    pub fn addr_by_name(&self, name: &str) -> Option<Ipv4Addr> {
        self.entries.iter().find_map(|(a, names)| match a {
            IpAddr::V4(v4) if names.iter().any(|n| n == name) => Some(*v4),
            _ => None,
        })
    }
}

/// Names from /etc/services, /etc/hosts and (for forward host
/// look-ups) the system resolver via `std::net::ToSocketAddrs`.
/// Reverse host look-ups only consult /etc/hosts (std has no PTR API); an
/// address not found there is printed numerically, as ipvsadm does when
/// gethostbyaddr fails.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub services: ServicesDb,
    pub hosts: HostsDb,
    /// Use the system resolver for forward look-ups not in /etc/hosts.
    pub use_resolver: bool,
}

impl Names {
    pub fn load() -> Names {
        Names {
            services: ServicesDb::load(),
            hosts: HostsDb::load(),
            use_resolver: true,
        }
    }
}

impl NameService for Names {
    fn host_to_ipv4(&self, name: &str) -> Option<Ipv4Addr> {
        if name.is_empty() {
            return None;
        }
        if let Some(a) = self.hosts.addr_by_name(name) {
            return Some(a);
        }
        if !self.use_resolver {
            return None;
        }
        use std::net::ToSocketAddrs;
        let addrs = (name, 0u16).to_socket_addrs().ok()?;
        for a in addrs {
            if let std::net::SocketAddr::V4(v4) = a {
                return Some(*v4.ip());
            }
        }
        None
    }
    fn service_to_port(&self, name: &str, proto: Protocol) -> Option<u16> {
        self.services.port_by_name(name, proto.services_name()?)
    }
    fn addr_to_host(&self, addr: &IpAddr) -> Option<String> {
        self.hosts.name_by_addr(addr)
    }
    fn port_to_service(&self, port: u16, proto: Protocol) -> Option<String> {
        self.services.name_by_port(port, proto.services_name()?)
    }
}

#[cfg(test)]
impl Names {
    /// Names from the given `/etc/services` and `/etc/hosts` texts alone.
    pub fn from_texts(services: &str, hosts: &str) -> Names {
        Names {
            services: ServicesDb::parse(services),
            hosts: HostsDb::parse(hosts),
            use_resolver: false,
        }
    }

    /// The `/etc/services` and `/etc/hosts` the ipvsadm runs were recorded
    /// with.
    pub fn recorded() -> Names {
        Names::from_texts(
            include_str!("../tests/fixtures/services"),
            include_str!("../tests/fixtures/hosts"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_db() {
        let db = ServicesDb::parse(
            "# c\nhttp\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\ndomain 53/tcp\ndomain 53/udp\nhttp-alt 8080/tcp webcache\n",
        );
        assert_eq!(db.port_by_name("http", "tcp"), Some(80));
        assert_eq!(db.port_by_name("www", "tcp"), Some(80));
        assert_eq!(db.port_by_name("http", "udp"), None);
        assert_eq!(db.name_by_port(53, "udp"), Some("domain".to_string()));
        assert_eq!(db.name_by_port(8080, "tcp"), Some("http-alt".to_string()));
        assert_eq!(db.name_by_port(80, "sctp"), None);
    }
}
