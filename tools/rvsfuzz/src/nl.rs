// SPDX-License-Identifier: GPL-2.0
//! A minimal generic netlink client: one socket, hand-built messages (so
//! that they can be built wrong on purpose), family and policy look-up
//! through the `nlctrl` family.

use std::io;

pub const NETLINK_GENERIC: i32 = 16;
pub const GENL_ID_CTRL: u16 = 0x10;
pub const CTRL_CMD_GETFAMILY: u8 = 3;
pub const CTRL_CMD_GETPOLICY: u8 = 10;
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
pub const CTRL_ATTR_MAXATTR: u16 = 5;
pub const CTRL_ATTR_OPS: u16 = 6;
pub const CTRL_ATTR_POLICY: u16 = 8;
pub const CTRL_ATTR_OP_ID: u16 = 1;
pub const CTRL_ATTR_OP_FLAGS: u16 = 2;
pub const NLM_F_REQUEST: u16 = 1;
pub const NLM_F_ACK: u16 = 4;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_TYPE_MASK: u16 = 0x3fff;
pub const GENL_CMD_CAP_DUMP: u32 = 4;

/// `enum netlink_attribute_type`, as the policy dump reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    Flag,
    U8,
    U16,
    U32,
    U64,
    Binary,
    String,
    NulString,
    Nested,
    Other(u32),
}

impl AttrType {
    fn from_u32(v: u32) -> Self {
        match v {
            1 => Self::Flag,
            2 | 6 => Self::U8,
            3 | 7 => Self::U16,
            4 | 8 => Self::U32,
            5 | 9 | 16 | 17 => Self::U64,
            10 => Self::Binary,
            11 => Self::String,
            12 => Self::NulString,
            13 | 14 => Self::Nested,
            o => Self::Other(o),
        }
    }
}

/// One attribute of a policy.
#[derive(Clone, Debug)]
pub struct AttrPolicy {
    pub kind: u16,
    pub ty: AttrType,
    pub max_len: Option<u32>,
    /// Index of the nested policy, for nested attributes.
    pub nested: Option<u32>,
}

/// A family's policies as the kernel reports them: `policies[0]` is the
/// top level; attribute types the kernel rejects are absent.
#[derive(Clone, Debug, Default)]
pub struct Policies {
    pub policies: Vec<Vec<AttrPolicy>>,
}

/// A family: id, highest attribute, and its commands (id, flags).
#[derive(Clone, Debug)]
pub struct FamilyInfo {
    pub id: u16,
    pub maxattr: u32,
    pub ops: Vec<(u8, u32)>,
}

pub fn put_attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// A whole netlink message: header, genl header, attributes.
pub fn message(family: u16, flags: u16, seq: u32, cmd: u8, version: u8, attrs: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&family.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[cmd, version, 0, 0]);
    m.extend_from_slice(attrs);
    m
}

/// Iterates over the attributes in `buf`: (type without flags, payload).
pub fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > buf.len() {
            return None;
        }
        let payload = &buf[4..len];
        let adv = (len + 3) & !3;
        buf = &buf[adv.min(buf.len())..];
        Some((kind, payload))
    })
}

fn get_u32(p: &[u8]) -> Option<u32> {
    Some(match p.len() {
        1 => p[0] as u32,
        2 => u16::from_ne_bytes([p[0], p[1]]) as u32,
        4 | 8 => u32::from_ne_bytes([p[0], p[1], p[2], p[3]]),
        _ => return None,
    })
}

/// A reply message: type, flags, payload after the netlink header.
pub struct Reply {
    pub ty: u16,
    pub payload: Vec<u8>,
}

impl Reply {
    /// For NLMSG_ERROR: the (negative) errno, 0 for an ACK.
    pub fn error(&self) -> Option<i32> {
        (self.ty == NLMSG_ERROR && self.payload.len() >= 4).then(|| {
            i32::from_ne_bytes([
                self.payload[0],
                self.payload[1],
                self.payload[2],
                self.payload[3],
            ])
        })
    }
}

pub struct Socket {
    fd: i32,
    buf: Vec<u8>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: `fd` is our open socket.
        unsafe { libc::close(self.fd) };
    }
}

fn setsockopt_int(fd: i32, level: i32, opt: i32, v: i32) -> io::Result<()> {
    // SAFETY: Passes a valid int and its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as u32,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Socket {
    pub fn open() -> io::Result<Self> {
        // SAFETY: Plain syscall.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_GENERIC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let s = Self {
            fd,
            buf: vec![0u8; 1 << 20],
        };
        // Big buffers: replies to a batch arrive all at once. FORCE needs
        // CAP_NET_ADMIN; without it the plain option is capped, which is
        // fine (overruns are counted, not fatal).
        for (force, plain) in [
            (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
            (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
        ] {
            if setsockopt_int(fd, libc::SOL_SOCKET, force, 8 << 20).is_err() {
                let _ = setsockopt_int(fd, libc::SOL_SOCKET, plain, 8 << 20);
            }
        }
        // Extended ACKs (the messages the fuzzer counts), and no copy of
        // the request in error replies.
        let _ = setsockopt_int(fd, 270, 11, 1); // NETLINK_EXT_ACK
        let _ = setsockopt_int(fd, 270, 10, 1); // NETLINK_CAP_ACK
        let mut addr: libc::sockaddr_nl = unsafe_zeroed();
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: `addr` is a valid sockaddr_nl.
        let r = unsafe {
            libc::bind(
                fd,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(s)
    }

    /// Sends `data` (one or more messages) in one datagram.
    pub fn send(&self, data: &[u8]) -> io::Result<()> {
        let mut addr: libc::sockaddr_nl = unsafe_zeroed();
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: `data` and `addr` are valid for the call.
        let r = unsafe {
            libc::sendto(
                self.fd,
                data.as_ptr().cast(),
                data.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Receives one datagram and splits it into messages. `Ok(None)` when
    /// nothing is waiting (non-blocking).
    pub fn recv(&mut self, block: bool) -> io::Result<Option<Vec<Reply>>> {
        let flags = if block { 0 } else { libc::MSG_DONTWAIT };
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(self.fd, self.buf.as_mut_ptr().cast(), self.buf.len(), flags) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EAGAIN) {
                return Ok(None);
            }
            return Err(e);
        }
        let mut out = Vec::new();
        let mut b = &self.buf[..n as usize];
        while b.len() >= 16 {
            let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
            let ty = u16::from_ne_bytes([b[4], b[5]]);
            if len < 16 || len > b.len() {
                break;
            }
            out.push(Reply {
                ty,
                payload: b[16..len].to_vec(),
            });
            b = &b[((len + 3) & !3).min(b.len())..];
        }
        Ok(Some(out))
    }

    /// One request, waiting for its ACK or error (and collecting replies
    /// until then, or until NLMSG_DONE for dumps).
    pub fn request(&mut self, msg: &[u8]) -> io::Result<(i32, Vec<Reply>)> {
        self.send(msg)?;
        let mut got = Vec::new();
        loop {
            let Some(rs) = self.recv(true)? else { continue };
            for r in rs {
                if let Some(e) = r.error() {
                    return Ok((e, got));
                }
                if r.ty == NLMSG_DONE {
                    return Ok((0, got));
                }
                got.push(r);
            }
        }
    }

    pub fn family(&mut self, name: &str) -> io::Result<FamilyInfo> {
        let mut a = Vec::new();
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        put_attr(&mut a, CTRL_ATTR_FAMILY_NAME, &n);
        let m = message(
            GENL_ID_CTRL,
            NLM_F_REQUEST | NLM_F_ACK,
            1,
            CTRL_CMD_GETFAMILY,
            1,
            &a,
        );
        let (e, replies) = self.request(&m)?;
        if e != 0 || replies.is_empty() {
            // The ACK follows the reply: an error comes alone.
            return Err(io::Error::from_raw_os_error(-e.min(-1)));
        }
        let mut fi = FamilyInfo {
            id: 0,
            maxattr: 0,
            ops: Vec::new(),
        };
        for (k, p) in attrs(&replies[0].payload[4..]) {
            match k {
                CTRL_ATTR_FAMILY_ID => fi.id = get_u32(p).unwrap_or(0) as u16,
                CTRL_ATTR_MAXATTR => fi.maxattr = get_u32(p).unwrap_or(0),
                CTRL_ATTR_OPS => {
                    for (_, op) in attrs(p) {
                        let (mut id, mut fl) = (0, 0);
                        for (k, v) in attrs(op) {
                            match k {
                                CTRL_ATTR_OP_ID => id = get_u32(v).unwrap_or(0),
                                CTRL_ATTR_OP_FLAGS => fl = get_u32(v).unwrap_or(0),
                                _ => {}
                            }
                        }
                        fi.ops.push((id as u8, fl));
                    }
                }
                _ => {}
            }
        }
        Ok(fi)
    }

    /// The family's attribute policies (`CTRL_CMD_GETPOLICY` dump).
    pub fn policies(&mut self, family: u16) -> io::Result<Policies> {
        let mut a = Vec::new();
        put_attr(&mut a, CTRL_ATTR_FAMILY_ID, &family.to_ne_bytes());
        let m = message(
            GENL_ID_CTRL,
            NLM_F_REQUEST | NLM_F_DUMP,
            2,
            CTRL_CMD_GETPOLICY,
            1,
            &a,
        );
        let (e, replies) = self.request(&m)?;
        if e != 0 {
            return Err(io::Error::from_raw_os_error(-e));
        }
        let mut p = Policies::default();
        for r in &replies {
            for (k, v) in attrs(&r.payload[4..]) {
                if k != CTRL_ATTR_POLICY {
                    continue;
                }
                // POLICY { idx { attr { NL_POLICY_TYPE_ATTR_* } } }
                for (idx, pol) in attrs(v) {
                    for (kind, desc) in attrs(pol) {
                        let mut ap = AttrPolicy {
                            kind,
                            ty: AttrType::Other(0),
                            max_len: None,
                            nested: None,
                        };
                        for (dk, dv) in attrs(desc) {
                            match dk {
                                1 => ap.ty = AttrType::from_u32(get_u32(dv).unwrap_or(0)),
                                7 => ap.max_len = get_u32(dv),
                                8 => ap.nested = get_u32(dv),
                                _ => {}
                            }
                        }
                        let idx = idx as usize;
                        if p.policies.len() <= idx {
                            p.policies.resize(idx + 1, Vec::new());
                        }
                        p.policies[idx].push(ap);
                    }
                }
            }
        }
        if p.policies.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "empty policy dump",
            ));
        }
        Ok(p)
    }
}

fn unsafe_zeroed<T>() -> T {
    // SAFETY: Only used for plain C structs (sockaddr_nl), valid all-zero.
    unsafe { std::mem::zeroed() }
}
