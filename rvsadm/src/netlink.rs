//! The `rvs` generic netlink family as seen from userspace: one `Nla` enum
//! per attribute set, a `GenlFamily` payload, and a small request client.

use std::fmt;
use std::io;

use netlink_packet_core::{
    emit_u32, parse_string, parse_u32, DecodeError, Emitable, ErrorContext, NetlinkMessage,
    NetlinkPayload, Nla, NlaBuffer, NlasIterator, Parseable, ParseableParametrized, NLM_F_ACK,
    NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::{
    ctrl::{nlas::GenlCtrlAttrs, GenlCtrl, GenlCtrlCmd},
    GenlFamily, GenlHeader, GenlMessage,
};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use rvs_core::abi::{self, cmd, cmd_attr, info_attr};

/// Attributes of a GET_INFO reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoAttr {
    Version(u32),
    ConnTabSize(u32),
    ModuleVersion(String),
    Other(u16),
}

impl Nla for InfoAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Version(_) | Self::ConnTabSize(_) => 4,
            Self::ModuleVersion(s) => s.len() + 1,
            Self::Other(_) => 0,
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Version(_) => info_attr::VERSION,
            Self::ConnTabSize(_) => info_attr::CONN_TAB_SIZE,
            Self::ModuleVersion(_) => info_attr::MODULE_VERSION,
            Self::Other(k) => *k,
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Version(v) | Self::ConnTabSize(v) => emit_u32(buf, *v).unwrap_or(()),
            Self::ModuleVersion(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Self::Other(_) => {}
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for InfoAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            info_attr::VERSION => Self::Version(parse_u32(p).context("info version")?),
            info_attr::CONN_TAB_SIZE => Self::ConnTabSize(parse_u32(p).context("conn tab size")?),
            info_attr::MODULE_VERSION => {
                Self::ModuleVersion(parse_string(p).context("module version")?)
            }
            k => Self::Other(k),
        })
    }
}

/// Payload of an `rvs` family message: a command and its attributes, raw,
/// so each command decodes the attribute set it expects.
#[derive(Debug, Clone)]
pub struct RvsMessage {
    pub cmd: u8,
    pub attrs: Vec<u8>,
}

impl RvsMessage {
    /// A request with command `cmd` and attributes `nlas`.
    pub fn request<N: Nla>(cmd: u8, nlas: &[N]) -> Self {
        let mut attrs = vec![0; nlas.buffer_len()];
        nlas.emit(&mut attrs);
        Self { cmd, attrs }
    }

    /// Decodes the attributes as the set `A`.
    pub fn parse_attrs<A>(&self) -> Result<Vec<A>, DecodeError>
    where
        A: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
    {
        NlasIterator::new(self.attrs.as_slice())
            .map(|nla| nla.and_then(|nla| A::parse(&nla)))
            .collect()
    }
}

impl GenlFamily for RvsMessage {
    fn family_name() -> &'static str {
        abi::FAMILY_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        abi::FAMILY_VERSION
    }
}

impl Emitable for RvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.len()
    }
    fn emit(&self, buf: &mut [u8]) {
        buf[..self.attrs.len()].copy_from_slice(&self.attrs);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for RvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Ok(Self {
            cmd: header.cmd,
            attrs: buf.to_vec(),
        })
    }
}

/// What can go wrong talking to the module.
#[derive(Debug)]
pub enum Error {
    /// The `rvs` family is not registered: the module is not loaded here.
    NotLoaded,
    /// The kernel answered with an errno, and maybe an extack message.
    Kernel {
        errno: i32,
        msg: Option<String>,
    },
    Io(io::Error),
    Decode(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoaded => write!(
                f,
                "Can't initialize rvs: the rvs kernel module is not loaded \
                 (no generic netlink family \"rvs\")\n\
                 Are you sure that rvs.ko is loaded (insmod rvs.ko)?"
            ),
            Self::Kernel { errno, msg } => {
                let text = io::Error::from_raw_os_error(*errno).to_string();
                let text = text.split(" (os error").next().unwrap_or(&text).to_string();
                match msg {
                    Some(m) => write!(f, "{text}: {m}"),
                    None => write!(f, "{text}"),
                }
            }
            Self::Io(e) => write!(f, "netlink: {e}"),
            Self::Decode(e) => write!(f, "netlink: malformed reply: {e}"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// A generic netlink socket bound to the `rvs` family.
pub struct Client {
    sock: Socket,
    family_id: u16,
    seq: u32,
}

impl Client {
    /// Opens a socket and resolves the family; `Error::NotLoaded` if the
    /// module is not loaded.
    pub fn connect() -> Result<Self, Error> {
        let mut sock = Socket::new(NETLINK_GENERIC)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Ask for extack messages with errors.
        sock.set_ext_ack(true).ok();
        let mut c = Self {
            sock,
            family_id: 0,
            seq: 0,
        };
        c.family_id = c.resolve_family()?;
        Ok(c)
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let msg = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(abi::FAMILY_NAME.to_string())],
        });
        let replies = match self.transact(msg, 0x10 /* GENL_ID_CTRL */, false) {
            Err(Error::Kernel { errno, .. }) if errno == libc_enoent() => {
                return Err(Error::NotLoaded)
            }
            r => r?,
        };
        for r in replies {
            let payload = r.payload;
            for nla in payload.nlas {
                if let GenlCtrlAttrs::FamilyId(id) = nla {
                    return Ok(id);
                }
            }
        }
        Err(Error::NotLoaded)
    }

    /// Sends a `doit` request and returns the replies.
    fn request(&mut self, msg: RvsMessage) -> Result<Vec<RvsMessage>, Error> {
        let id = self.family_id;
        let r = self.transact(GenlMessage::from_payload(msg), id, false)?;
        Ok(r.into_iter().map(|m| m.payload).collect())
    }

    /// Sends a dump request and returns every entry.
    fn dump_msgs(&mut self, msg: RvsMessage) -> Result<Vec<RvsMessage>, Error> {
        let id = self.family_id;
        let r = self.transact(GenlMessage::from_payload(msg), id, true)?;
        Ok(r.into_iter().map(|m| m.payload).collect())
    }

    fn transact<F>(
        &mut self,
        mut genl: GenlMessage<F>,
        family_id: u16,
        dump: bool,
    ) -> Result<Vec<GenlMessage<F>>, Error>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + fmt::Debug,
    {
        genl.set_resolved_family_id(family_id);
        genl.finalize();
        let mut nl = NetlinkMessage::from(genl);
        self.seq = self.seq.wrapping_add(1);
        nl.header.sequence_number = self.seq;
        nl.header.flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        nl.finalize();
        let mut tx = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut tx);
        self.sock.send(&tx, 0)?;

        let mut out = Vec::new();
        let mut rx = vec![0u8; 1 << 16];
        loop {
            let n = self.sock.recv(&mut &mut rx[..], 0)?;
            let mut off = 0;
            while off < n {
                let msg = <NetlinkMessage<GenlMessage<F>>>::deserialize(&rx[off..n])
                    .map_err(|e| Error::Decode(e.to_string()))?;
                let len = msg.header.length as usize;
                match msg.payload {
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => {
                                if dump {
                                    continue;
                                }
                                Ok(out)
                            }
                            Some(code) => Err(Error::Kernel {
                                errno: -code.get(),
                                msg: extack_msg(&rx[off..off + len]),
                            }),
                        };
                    }
                    _ => {}
                }
                if len == 0 {
                    break;
                }
                off += (len + 3) & !3;
            }
        }
    }
}

impl Client {
    /// Sends `msgs` as `doit` requests, many per `send`, and returns each
    /// one's outcome, in order. The kernel handles them one after the
    /// other, exactly as if sent one by one.
    fn send_batch(&mut self, msgs: Vec<RvsMessage>) -> Result<Vec<Result<(), Error>>, Error> {
        // Requests per send, so that the acknowledgements (with echoed
        // requests and extack) fit the socket's receive buffer.
        const PER_SEND: usize = 64;
        let mut results = Vec::with_capacity(msgs.len());
        let mut msgs = msgs.into_iter().peekable();
        while msgs.peek().is_some() {
            let first_seq = self.seq.wrapping_add(1);
            let mut tx = Vec::new();
            let mut n = 0usize;
            for m in msgs.by_ref().take(PER_SEND) {
                let mut genl = GenlMessage::from_payload(m);
                genl.set_resolved_family_id(self.family_id);
                genl.finalize();
                let mut nl = NetlinkMessage::from(genl);
                self.seq = self.seq.wrapping_add(1);
                nl.header.sequence_number = self.seq;
                nl.header.flags = NLM_F_REQUEST | NLM_F_ACK;
                nl.finalize();
                let start = tx.len();
                tx.resize(start + nl.buffer_len(), 0);
                nl.serialize(&mut tx[start..]);
                n += 1;
            }
            self.sock.send(&tx, 0)?;
            let mut got: Vec<Option<Result<(), Error>>> = (0..n).map(|_| None).collect();
            let mut left = n;
            let mut rx = vec![0u8; 1 << 16];
            while left > 0 {
                let len = self.sock.recv(&mut &mut rx[..], 0)?;
                let mut off = 0;
                while off + 16 <= len {
                    let mlen =
                        u32::from_ne_bytes(rx[off..off + 4].try_into().unwrap_or([0; 4])) as usize;
                    let kind = u16::from_ne_bytes([rx[off + 4], rx[off + 5]]);
                    let seq =
                        u32::from_ne_bytes(rx[off + 8..off + 12].try_into().unwrap_or([0; 4]));
                    if mlen < 16 || off + mlen > len {
                        break;
                    }
                    let idx = seq.wrapping_sub(first_seq) as usize;
                    if kind == 2 /* NLMSG_ERROR */ && idx < n && got[idx].is_none() {
                        let code =
                            i32::from_ne_bytes(rx[off + 16..off + 20].try_into().unwrap_or([0; 4]));
                        got[idx] = Some(if code == 0 {
                            Ok(())
                        } else {
                            Err(Error::Kernel {
                                errno: -code,
                                msg: extack_msg(&rx[off..off + mlen]),
                            })
                        });
                        left -= 1;
                    }
                    off += (mlen + 3) & !3;
                }
            }
            results.extend(got.into_iter().map(|r| r.unwrap_or(Ok(()))));
        }
        Ok(results)
    }
}

fn libc_enoent() -> i32 {
    2
}

/// Pulls the extack message (NLMSGERR_ATTR_MSG) out of an error message:
/// nlmsghdr, errno, the echoed request header (capped: NLM_F_CAPPED), then
/// attributes.
fn extack_msg(msg: &[u8]) -> Option<String> {
    const NLMSG_HDRLEN: usize = 16;
    const NLM_F_CAPPED: u16 = 0x100;
    const NLM_F_ACK_TLVS: u16 = 0x200;
    const NLMSGERR_ATTR_MSG: u16 = 1;
    let flags = u16::from_ne_bytes(msg.get(6..8)?.try_into().ok()?);
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let inner_len = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        u32::from_ne_bytes(msg.get(20..24)?.try_into().ok()?) as usize
    };
    let tlvs = msg.get(NLMSG_HDRLEN + 4 + ((inner_len + 3) & !3)..)?;
    for item in rvs_core::nla::Iter::new(tlvs) {
        let (kind, payload) = item.ok()?;
        if kind == NLMSGERR_ATTR_MSG {
            return rvs_core::nla::get_str(payload).map(str::to_string);
        }
    }
    None
}

/// The module's answer to GET_INFO.
pub struct Info {
    pub version: u32,
    pub conn_tab_size: u32,
    pub module_version: String,
}

impl Client {
    fn get_info(&mut self) -> Result<Info, Error> {
        let replies = self.request(RvsMessage::request::<Attr>(cmd::GET_INFO, &[]))?;
        let reply = replies
            .first()
            .ok_or_else(|| Error::Decode("no GET_INFO reply".into()))?;
        let mut info = Info {
            version: 0,
            conn_tab_size: 0,
            module_version: String::new(),
        };
        for a in reply
            .parse_attrs::<InfoAttr>()
            .map_err(|e| Error::Decode(e.to_string()))?
        {
            match a {
                InfoAttr::Version(v) => info.version = v,
                InfoAttr::ConnTabSize(v) => info.conn_tab_size = v,
                InfoAttr::ModuleVersion(s) => info.module_version = s,
                InfoAttr::Other(_) => {}
            }
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_attrs_round_trip() {
        let attrs = vec![
            InfoAttr::Version(abi::IPVS_VERSION_CODE),
            InfoAttr::ConnTabSize(4096),
            InfoAttr::ModuleVersion("0.1.0".into()),
        ];
        let msg = RvsMessage::request(cmd::SET_INFO, &attrs);
        assert_eq!(msg.parse_attrs::<InfoAttr>().unwrap(), attrs);
    }

    #[test]
    fn extack_message_is_found() {
        // nlmsghdr(len, type=2 ERROR, flags=CAPPED|ACK_TLVS, seq, pid),
        // errno, capped request header, then NLMSGERR_ATTR_MSG "bad".
        let mut m = Vec::new();
        m.extend_from_slice(&44u32.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&0x300u16.to_ne_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&(-22i32).to_ne_bytes());
        m.extend_from_slice(&[0; 16]);
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&1u16.to_ne_bytes());
        m.extend_from_slice(b"bad\0");
        assert_eq!(extack_msg(&m).as_deref(), Some("bad"));
    }
}

/// A counter of a STATS / STATS64 set: (attribute, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsAttr(pub u16, pub u64);

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for StatsAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        let v = match p.len() {
            4 => u64::from(parse_u32(p)?),
            8 => u64::from_ne_bytes(p.try_into().unwrap_or([0; 8])),
            _ => 0,
        };
        Ok(Self(buf.kind(), v))
    }
}

fn parse_nested<A>(p: &[u8]) -> Result<Vec<A>, DecodeError>
where
    A: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(p)
        .map(|nla| nla.and_then(|nla| A::parse(&nla)))
        .collect()
}

fn nested_len<N: Nla>(v: &[N]) -> usize {
    v.buffer_len()
}

/// Attributes of a virtual service ([`cmd_attr::SERVICE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcAttr {
    Af(u16),
    Protocol(u16),
    /// 4 or 16 bytes, network order.
    Addr(Vec<u8>),
    /// Host order; network order on the wire.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    Flags {
        flags: u32,
        mask: u32,
    },
    Timeout(u32),
    /// On the wire as IPVS sends it: an IPv4 mask in network order, an
    /// IPv6 prefix length.
    Netmask(u32),
    PeName(String),
    Stats(Vec<StatsAttr>),
    Stats64(Vec<StatsAttr>),
    Other(u16),
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Af(_) | Self::Protocol(_) | Self::Port(_) => 2,
            Self::Fwmark(_) | Self::Timeout(_) | Self::Netmask(_) => 4,
            Self::Addr(a) => a.len(),
            Self::SchedName(s) | Self::PeName(s) => s.len() + 1,
            Self::Flags { .. } => 8,
            Self::Stats(_) | Self::Stats64(_) | Self::Other(_) => 0,
        }
    }
    fn kind(&self) -> u16 {
        use rvs_core::abi::svc_attr as a;
        match self {
            Self::Af(_) => a::AF,
            Self::Protocol(_) => a::PROTOCOL,
            Self::Addr(_) => a::ADDR,
            Self::Port(_) => a::PORT,
            Self::Fwmark(_) => a::FWMARK,
            Self::SchedName(_) => a::SCHED_NAME,
            Self::Flags { .. } => a::FLAGS,
            Self::Timeout(_) => a::TIMEOUT,
            Self::Netmask(_) => a::NETMASK,
            Self::PeName(_) => a::PE_NAME,
            Self::Stats(_) => a::STATS,
            Self::Stats64(_) => a::STATS64,
            Self::Other(k) => *k,
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Af(v) | Self::Protocol(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            Self::Port(v) => buf[..2].copy_from_slice(&v.to_be_bytes()),
            Self::Fwmark(v) | Self::Timeout(v) | Self::Netmask(v) => {
                buf[..4].copy_from_slice(&v.to_ne_bytes())
            }
            Self::Addr(a) => buf[..a.len()].copy_from_slice(a),
            Self::SchedName(s) | Self::PeName(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Self::Flags { flags, mask } => {
                buf[..4].copy_from_slice(&flags.to_ne_bytes());
                buf[4..8].copy_from_slice(&mask.to_ne_bytes());
            }
            Self::Stats(_) | Self::Stats64(_) | Self::Other(_) => {}
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for SvcAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        use rvs_core::abi::svc_attr as a;
        use rvs_core::nla as n;
        let p = buf.value();
        let bad = || DecodeError::from("bad service attribute");
        Ok(match buf.kind() {
            a::AF => Self::Af(n::get_u16(p).ok_or_else(bad)?),
            a::PROTOCOL => Self::Protocol(n::get_u16(p).ok_or_else(bad)?),
            a::ADDR => Self::Addr(p.to_vec()),
            a::PORT => Self::Port(n::get_be16(p).ok_or_else(bad)?),
            a::FWMARK => Self::Fwmark(n::get_u32(p).ok_or_else(bad)?),
            a::SCHED_NAME => Self::SchedName(n::get_str(p).ok_or_else(bad)?.to_string()),
            a::PE_NAME => Self::PeName(n::get_str(p).ok_or_else(bad)?.to_string()),
            a::FLAGS if p.len() == 8 => Self::Flags {
                flags: n::get_u32(&p[..4]).ok_or_else(bad)?,
                mask: n::get_u32(&p[4..]).ok_or_else(bad)?,
            },
            a::TIMEOUT => Self::Timeout(n::get_u32(p).ok_or_else(bad)?),
            a::NETMASK => Self::Netmask(n::get_u32(p).ok_or_else(bad)?),
            a::STATS => Self::Stats(parse_nested(p)?),
            a::STATS64 => Self::Stats64(parse_nested(p)?),
            k => Self::Other(k),
        })
    }
}

/// Attributes of a real server ([`cmd_attr::DEST`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    Addr(Vec<u8>),
    Port(u16),
    FwdMethod(u32),
    Weight(u32),
    UThresh(u32),
    LThresh(u32),
    ActiveConns(u32),
    InactConns(u32),
    PersistConns(u32),
    AddrFamily(u16),
    TunType(u8),
    TunPort(u16),
    TunFlags(u16),
    Stats(Vec<StatsAttr>),
    Stats64(Vec<StatsAttr>),
    Other(u16),
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Addr(a) => a.len(),
            Self::Port(_) | Self::AddrFamily(_) | Self::TunPort(_) | Self::TunFlags(_) => 2,
            Self::TunType(_) => 1,
            Self::Stats(_) | Self::Stats64(_) | Self::Other(_) => 0,
            _ => 4,
        }
    }
    fn kind(&self) -> u16 {
        use rvs_core::abi::dest_attr as a;
        match self {
            Self::Addr(_) => a::ADDR,
            Self::Port(_) => a::PORT,
            Self::FwdMethod(_) => a::FWD_METHOD,
            Self::Weight(_) => a::WEIGHT,
            Self::UThresh(_) => a::U_THRESH,
            Self::LThresh(_) => a::L_THRESH,
            Self::ActiveConns(_) => a::ACTIVE_CONNS,
            Self::InactConns(_) => a::INACT_CONNS,
            Self::PersistConns(_) => a::PERSIST_CONNS,
            Self::AddrFamily(_) => a::ADDR_FAMILY,
            Self::TunType(_) => a::TUN_TYPE,
            Self::TunPort(_) => a::TUN_PORT,
            Self::TunFlags(_) => a::TUN_FLAGS,
            Self::Stats(_) => a::STATS,
            Self::Stats64(_) => a::STATS64,
            Self::Other(k) => *k,
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Addr(a) => buf[..a.len()].copy_from_slice(a),
            Self::Port(v) | Self::TunPort(v) => buf[..2].copy_from_slice(&v.to_be_bytes()),
            Self::AddrFamily(v) | Self::TunFlags(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            Self::TunType(v) => buf[0] = *v,
            Self::FwdMethod(v)
            | Self::Weight(v)
            | Self::UThresh(v)
            | Self::LThresh(v)
            | Self::ActiveConns(v)
            | Self::InactConns(v)
            | Self::PersistConns(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Self::Stats(_) | Self::Stats64(_) | Self::Other(_) => {}
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        use rvs_core::abi::dest_attr as a;
        use rvs_core::nla as n;
        let p = buf.value();
        let bad = || DecodeError::from("bad real server attribute");
        let u32_ = |p: &[u8]| n::get_u32(p).ok_or_else(bad);
        Ok(match buf.kind() {
            a::ADDR => Self::Addr(p.to_vec()),
            a::PORT => Self::Port(n::get_be16(p).ok_or_else(bad)?),
            a::FWD_METHOD => Self::FwdMethod(u32_(p)?),
            a::WEIGHT => Self::Weight(u32_(p)?),
            a::U_THRESH => Self::UThresh(u32_(p)?),
            a::L_THRESH => Self::LThresh(u32_(p)?),
            a::ACTIVE_CONNS => Self::ActiveConns(u32_(p)?),
            a::INACT_CONNS => Self::InactConns(u32_(p)?),
            a::PERSIST_CONNS => Self::PersistConns(u32_(p)?),
            a::ADDR_FAMILY => Self::AddrFamily(n::get_u16(p).ok_or_else(bad)?),
            a::TUN_TYPE if p.len() == 1 => Self::TunType(p[0]),
            a::TUN_PORT => Self::TunPort(n::get_be16(p).ok_or_else(bad)?),
            a::TUN_FLAGS => Self::TunFlags(n::get_u16(p).ok_or_else(bad)?),
            a::STATS => Self::Stats(parse_nested(p)?),
            a::STATS64 => Self::Stats64(parse_nested(p)?),
            k => Self::Other(k),
        })
    }
}

/// Attributes of a connection-table entry ([`cmd_attr::CONN`]), kept
/// raw: (attribute, payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAttr(pub u16, pub Vec<u8>);

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for ConnAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        Ok(Self(buf.kind(), buf.value().to_vec()))
    }
}

/// Attributes of a connection-sync daemon ([`cmd_attr::DAEMON`]), as
/// libipvs puts them: STATE and SYNC_ID u32, MCAST_IFN a NUL-terminated
/// string, SYNC_MAXLEN u16, MCAST_GROUP an `in_addr` (network order),
/// MCAST_GROUP6 an `in6_addr`, MCAST_PORT a u16 in *host* order (unlike
/// the service and real-server ports), MCAST_TTL u8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxlen(u16),
    /// Network order.
    McastGroup([u8; 4]),
    McastGroup6([u8; 16]),
    /// Host order.
    McastPort(u16),
    McastTtl(u8),
    /// rvs extension, in the `rvs` family's GET_DAEMON replies: one of the
    /// counters `daemon_attr::DATAGRAMS ..= RESYNC_PENDING` (u64, or u32
    /// for LAST_SEQ and RESYNC_PENDING): (attribute, value).
    Counter(u16, u64),
    /// Anything else (PAD, attributes of a newer kernel), ignored.
    Other(u16),
}

impl DaemonAttr {
    /// The rvs counters that travel as u32 rather than u64.
    fn counter_is_u32(kind: u16) -> bool {
        use rvs_core::abi::daemon_attr as a;
        matches!(kind, a::LAST_SEQ | a::RESYNC_PENDING)
    }
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::State(_) | Self::SyncId(_) | Self::McastGroup(_) => 4,
            Self::McastIfn(s) => s.len() + 1,
            Self::SyncMaxlen(_) | Self::McastPort(_) => 2,
            Self::McastGroup6(_) => 16,
            Self::McastTtl(_) => 1,
            Self::Counter(k, _) if Self::counter_is_u32(*k) => 4,
            Self::Counter(..) => 8,
            Self::Other(_) => 0,
        }
    }
    fn kind(&self) -> u16 {
        use rvs_core::abi::daemon_attr as a;
        match self {
            Self::State(_) => a::STATE,
            Self::McastIfn(_) => a::MCAST_IFN,
            Self::SyncId(_) => a::SYNC_ID,
            Self::SyncMaxlen(_) => a::SYNC_MAXLEN,
            Self::McastGroup(_) => a::MCAST_GROUP,
            Self::McastGroup6(_) => a::MCAST_GROUP6,
            Self::McastPort(_) => a::MCAST_PORT,
            Self::McastTtl(_) => a::MCAST_TTL,
            Self::Counter(k, _) | Self::Other(k) => *k,
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::State(v) | Self::SyncId(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Self::McastIfn(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Self::SyncMaxlen(v) | Self::McastPort(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            Self::McastGroup(a) => buf[..4].copy_from_slice(a),
            Self::McastGroup6(a) => buf[..16].copy_from_slice(a),
            Self::McastTtl(v) => buf[0] = *v,
            Self::Counter(k, v) if Self::counter_is_u32(*k) => {
                buf[..4].copy_from_slice(&(*v as u32).to_ne_bytes())
            }
            Self::Counter(_, v) => buf[..8].copy_from_slice(&v.to_ne_bytes()),
            Self::Other(_) => {}
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        use rvs_core::abi::daemon_attr as a;
        use rvs_core::nla as n;
        let p = buf.value();
        let bad = || DecodeError::from("bad sync daemon attribute");
        Ok(match buf.kind() {
            a::STATE => Self::State(n::get_u32(p).ok_or_else(bad)?),
            // libnl's NLA_STRING: up to the first NUL, if any.
            a::MCAST_IFN => {
                let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
                Self::McastIfn(String::from_utf8_lossy(&p[..end]).into_owned())
            }
            a::SYNC_ID => Self::SyncId(n::get_u32(p).ok_or_else(bad)?),
            a::SYNC_MAXLEN => Self::SyncMaxlen(n::get_u16(p).ok_or_else(bad)?),
            a::MCAST_GROUP => Self::McastGroup(p.try_into().map_err(|_| bad())?),
            a::MCAST_GROUP6 => Self::McastGroup6(p.try_into().map_err(|_| bad())?),
            a::MCAST_PORT => Self::McastPort(n::get_u16(p).ok_or_else(bad)?),
            a::MCAST_TTL if p.len() == 1 => Self::McastTtl(p[0]),
            a::MCAST_TTL => return Err(bad()),
            k @ a::DATAGRAMS..=a::RESYNC_PENDING => {
                let v = if Self::counter_is_u32(k) {
                    n::get_u32(p).map(u64::from)
                } else {
                    n::get_u64(p)
                };
                Self::Counter(k, v.ok_or_else(bad)?)
            }
            k => Self::Other(k),
        })
    }
}

/// Top-level attributes of requests and replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    Service(Vec<SvcAttr>),
    Dest(Vec<DestAttr>),
    /// Nested [`DaemonAttr`]s.
    Daemon(Vec<DaemonAttr>),
    Conn(Vec<ConnAttr>),
    TimeoutTcp(u32),
    TimeoutTcpFin(u32),
    TimeoutUdp(u32),
    Other(u16),
}

impl Nla for Attr {
    fn value_len(&self) -> usize {
        match self {
            Self::Service(v) => nested_len(v),
            Self::Dest(v) => nested_len(v),
            Self::Daemon(v) => nested_len(v),
            Self::Conn(_) | Self::Other(_) => 0,
            _ => 4,
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Service(_) => cmd_attr::SERVICE,
            Self::Dest(_) => cmd_attr::DEST,
            Self::Daemon(_) => cmd_attr::DAEMON,
            Self::Conn(_) => cmd_attr::CONN,
            Self::TimeoutTcp(_) => cmd_attr::TIMEOUT_TCP,
            Self::TimeoutTcpFin(_) => cmd_attr::TIMEOUT_TCP_FIN,
            Self::TimeoutUdp(_) => cmd_attr::TIMEOUT_UDP,
            Self::Other(k) => *k,
        }
    }
    fn is_nested(&self) -> bool {
        // libnl (3.5 and later, what ipvsadm 1.31 links on current
        // distributions) marks nests with NLA_F_NESTED; so does this.
        matches!(self, Self::Service(_) | Self::Dest(_) | Self::Daemon(_))
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Service(v) => v.as_slice().emit(buf),
            Self::Dest(v) => v.as_slice().emit(buf),
            Self::Daemon(v) => v.as_slice().emit(buf),
            Self::Conn(_) => {}
            Self::TimeoutTcp(v) | Self::TimeoutTcpFin(v) | Self::TimeoutUdp(v) => {
                buf[..4].copy_from_slice(&v.to_ne_bytes())
            }
            Self::Other(_) => {}
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for Attr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        let bad = || DecodeError::from("bad attribute");
        Ok(match buf.kind() {
            cmd_attr::SERVICE => Self::Service(parse_nested(p)?),
            cmd_attr::DEST => Self::Dest(parse_nested(p)?),
            cmd_attr::DAEMON => Self::Daemon(parse_nested(p)?),
            cmd_attr::CONN => Self::Conn(parse_nested(p)?),
            cmd_attr::TIMEOUT_TCP => Self::TimeoutTcp(rvs_core::nla::get_u32(p).ok_or_else(bad)?),
            cmd_attr::TIMEOUT_TCP_FIN => {
                Self::TimeoutTcpFin(rvs_core::nla::get_u32(p).ok_or_else(bad)?)
            }
            cmd_attr::TIMEOUT_UDP => Self::TimeoutUdp(rvs_core::nla::get_u32(p).ok_or_else(bad)?),
            k => Self::Other(k),
        })
    }
}

/// The requests rvsadm makes of the `rvs` family, as attributes.
/// [`Client`] sends them to the module; the replay tests answer them as
/// the kernels ipvsadm was recorded against did.
pub trait Kernel {
    /// GET_INFO.
    fn info(&mut self) -> Result<Info, Error>;
    /// A `doit` request; the replies' attributes.
    fn call(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error>;
    /// A dump request; every entry's attributes.
    fn dump(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error>;
    /// `doit` requests whose replies are only acknowledgements, sent
    /// together; each one's outcome, in order.
    fn batch(&mut self, requests: &[(u8, &[Attr])]) -> Result<Vec<Result<(), Error>>, Error>;
}

impl<K: Kernel + ?Sized> Kernel for &mut K {
    fn info(&mut self) -> Result<Info, Error> {
        (**self).info()
    }
    fn call(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error> {
        (**self).call(cmd, attrs)
    }
    fn dump(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error> {
        (**self).dump(cmd, attrs)
    }
    fn batch(&mut self, requests: &[(u8, &[Attr])]) -> Result<Vec<Result<(), Error>>, Error> {
        (**self).batch(requests)
    }
}

fn parse_replies(replies: &[RvsMessage]) -> Result<Vec<Vec<Attr>>, Error> {
    replies
        .iter()
        .map(|r| {
            r.parse_attrs::<Attr>()
                .map_err(|e| Error::Decode(e.to_string()))
        })
        .collect()
}

impl Kernel for Client {
    fn info(&mut self) -> Result<Info, Error> {
        self.get_info()
    }

    fn call(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error> {
        parse_replies(&self.request(RvsMessage::request(cmd, attrs))?)
    }

    fn dump(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, Error> {
        parse_replies(&self.dump_msgs(RvsMessage::request(cmd, attrs))?)
    }

    fn batch(&mut self, requests: &[(u8, &[Attr])]) -> Result<Vec<Result<(), Error>>, Error> {
        let msgs = requests
            .iter()
            .map(|(cmd, attrs)| RvsMessage::request(*cmd, attrs))
            .collect();
        self.send_batch(msgs)
    }
}
