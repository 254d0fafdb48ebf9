//! Command-line parsing for `rvsadm`, a drop-in for ipvsadm 1.31 (Debian
//! build, which accepts weights up to INT_MAX).
//!
//! The parser reproduces ipvsadm's behaviour, including its quirks:
//! popt's option syntax (bundled short options, `-s=rr`, `--opt=value`,
//! optional `-p` argument, `--`), the order in which checks happen, the
//! `commands_v_options` table, and every error message with its exit code.
//! Nothing here talks to the kernel.
//!
//! Extensions over ipvsadm:
//!
//! * `--json` (no short form), a listing option accepted with `-L`/`-l`
//!   (all services, one service, `-c`, `--timeout`, `--daemon`) and with
//!   `-S`, and rejected like ipvsadm's other listing options elsewhere
//!   ("Illegal 'json' option with the 'add-service' command", exit 2).  It
//!   sets [`FormatFlags::json`].  It combines with every other listing
//!   option (the JSON always carries counters and rates).  It is
//!   deliberately missing from the `-h` text.
//! * `--resync-daemon master|backup`, a command in the style of
//!   `--stop-daemon` (no options; "illegal resync-daemon parameter
//!   specified", exit 2, for another argument): a full resync of the
//!   connection-sync daemon.  Like `--json`, it is missing from the `-h`
//!   text, which stays byte-for-byte ipvsadm's.
//! * `-L --daemon --stats`, which ipvsadm refuses ("options conflicts in
//!   the list command"), lists the daemons' counters; `--rate` and
//!   `--thresholds` still conflict with `--daemon`.

use std::net::IpAddr;

use crate::addr;
use crate::format::FormatFlags;
use crate::model::{self, AddressFamily, Daemon, Dest, FwdMethod, Protocol, Service, Timeouts};
use crate::names::NameService;

/// Program name printed where ipvsadm prints its argv[0].
pub const PROGRAM: &str = "rvsadm";
/// ipvsadm's version and date.
pub const IPVSADM_VERSION: &str = "v1.31 2019/12/24";

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// What to list with `-L`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListTarget {
    /// The whole table (header, title and every service).
    All,
    /// One service (`-L -t addr:port`): title and that service, no header.
    Service(Service),
    /// `-c`: the connection table.
    Connections,
    /// `--timeout`.
    Timeout,
    /// `--daemon`.
    Daemon,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `-h`: print [`usage_text`] on stdout and exit 0 (ends a restore too).
    Help,
    /// `-v`: print [`version_text`] on stdout and exit 0.
    Version,
    /// `-A`
    AddService(Service),
    /// `-E`
    EditService(Service),
    /// `-D`
    DelService(Service),
    /// `-C`
    Flush,
    /// `-Z [service]`; None = zero all counters.
    Zero(Option<Service>),
    /// `-a`
    AddDest(Service, Dest),
    /// `-e`
    EditDest(Service, Dest),
    /// `-d`
    DelDest(Service, Dest),
    /// `--set tcp tcpfin udp`
    SetTimeout(Timeouts),
    /// `--start-daemon master|backup` (mcast_ifn defaults to "eth0").
    StartDaemon(Daemon),
    /// `--stop-daemon master|backup`
    StopDaemon(Daemon),
    /// `--resync-daemon master|backup` (rvs extension): a full resync;
    /// only `state` is set.
    ResyncDaemon(Daemon),
    /// `-R`: read commands from stdin (see [`restore_lines`]).
    Restore,
    /// `-S [-n]`: print the table as rules; `format.rule` is set.
    Save { format: FormatFlags },
    /// `-L`/`-l`, or no arguments at all.
    List {
        target: ListTarget,
        format: FormatFlags,
    },
}

/// A parse failure, carrying exactly what ipvsadm prints and how it exits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError {
    /// The complete text for stderr, including the final newline.
    pub message: String,
    /// Exit status (2 for ipvsadm's `fail()`, 255 for usage errors).
    pub exit_code: i32,
    /// true: ipvsadm calls exit() here, which also ends a `-R` restore at
    /// once.  false: ipvsadm only returns -1 from that command (popt
    /// errors such as "--foo: unknown option"); a restore continues with
    /// the next line and the process exits 255 only if this was the last
    /// command.
    pub fatal: bool,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message.trim_end_matches('\n'))
    }
}

impl std::error::Error for CliError {}

fn fail(msg: impl Into<String>) -> CliError {
    let mut message = msg.into();
    message.push('\n');
    CliError {
        message,
        exit_code: 2,
        fatal: true,
    }
}

fn tryhelp() -> CliError {
    CliError {
        message: format!(
            "Try `{p} -h' or '{p} --help' for more information.\n",
            p = PROGRAM
        ),
        exit_code: 255,
        fatal: true,
    }
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Parses the command line (argv without argv[0]). `posix`: popt's
/// POSIXLY_CORRECT mode, where the first non-option ends the options.
pub fn parse(args: &[String], names: &dyn NameService, posix: bool) -> Result<Command, CliError> {
    parse_full(args, names, false, posix)
}

/// Parses one command of `-R` input (as [`restore_lines`] splits it),
/// exactly as the command line is but for a nested `-R`: ipvsadm runs
/// each through the same popt code.
pub fn parse_restore_args(
    args: &[String],
    names: &dyn NameService,
    posix: bool,
) -> Result<Command, CliError> {
    parse_full(args, names, true, posix)
}

/// popt switches to POSIX mode (options end at the first non-option) when
/// POSIXLY_CORRECT or POSIX_ME_HARDER is set.
pub fn posix_from_env() -> bool {
    std::env::var_os("POSIXLY_CORRECT").is_some() || std::env::var_os("POSIX_ME_HARDER").is_some()
}

/// Split `-R` input into the argument vectors ipvsadm runs, exactly as its
/// config_stream_read does: tokens are separated by space, tab, CR and LF;
/// a newline ends a command; tokens equal to "ipvsadm" are dropped; lines
/// without tokens are skipped; the input ends early (dropping the
/// pending command) when only blanks follow the last token of a final
/// line with no newline after a tab/CR/space run (a C quirk).  Tokens are
/// cut every 4096 bytes.
pub fn restore_lines(input: &str) -> Vec<Vec<String>> {
    const MAX: usize = 4096;
    let b = input.as_bytes();
    let is_ws = |c: u8| c == b' ' || c == b'\t' || c == b'\n' || c == b'\r';
    let mut pos = 0usize;
    let mut out = Vec::new();
    'outer: loop {
        // one config_stream_read() call
        let mut cur: Vec<String> = Vec::new();
        let mut ntoken = 0usize;
        loop {
            // fscanf("%4096[^ \t\n\r]%1[ \t\n\r]")
            if pos >= b.len() {
                break; // EOF
            }
            if is_ws(b[pos]) {
                // status 0: skip blanks up to a newline
                loop {
                    if pos >= b.len() {
                        break 'outer; // array destroyed, restore ends
                    }
                    let c = b[pos];
                    pos += 1;
                    match c {
                        b'\n' => {
                            if !cur.is_empty() {
                                out.push(std::mem::take(&mut cur));
                            }
                            continue 'outer;
                        }
                        b'\t' | b'\r' | b' ' => {}
                        _ => {
                            pos -= 1;
                            break;
                        }
                    }
                }
                continue;
            }
            let start = pos;
            while pos < b.len() && !is_ws(b[pos]) && pos - start < MAX {
                pos += 1;
            }
            let token = String::from_utf8_lossy(&b[start..pos]).into_owned();
            let mut tail_nl = false;
            if pos < b.len() && is_ws(b[pos]) {
                tail_nl = b[pos] == b'\n';
                pos += 1;
            }
            if token != "ipvsadm" {
                ntoken += 1;
                cur.push(token);
            }
            if tail_nl {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                continue 'outer;
            }
        }
        // EOF
        if ntoken == 0 {
            break;
        }
        out.push(cur);
        break;
    }
    out
}

/// The version line (`-v`), with the program name "rvsadm".
pub fn version_text() -> String {
    format!(
        "{} {} (compiled with popt and IPVS v1.2.1)\n",
        PROGRAM, IPVSADM_VERSION
    )
}

/// ipvsadm's `-h` text, byte for byte, with "rvsadm" wherever ipvsadm
/// prints its argv[0].
pub fn usage_text() -> String {
    let p = PROGRAM;
    let mut s = version_text();
    s.push_str("Usage:\n");
    s.push_str(&format!("  {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n"));
    s.push_str(&format!("  {p} -D virtual-service\n"));
    s.push_str(&format!("  {p} -C\n"));
    s.push_str(&format!("  {p} -R\n"));
    s.push_str(&format!("  {p} -S [-n]\n"));
    s.push_str(&format!(
        "  {p} -a|e virtual-service -r server-address [options]\n"
    ));
    s.push_str(&format!("  {p} -d virtual-service -r server-address\n"));
    s.push_str(&format!("  {p} -L|l [virtual-service] [options]\n"));
    s.push_str(&format!("  {p} -Z [virtual-service]\n"));
    s.push_str(&format!("  {p} --set tcp tcpfin udp\n"));
    s.push_str(&format!(
        "  {p} --start-daemon {{master|backup}} [daemon-options]\n"
    ));
    s.push_str(&format!("  {p} --stop-daemon {{master|backup}}\n"));
    s.push_str(&format!("  {p} -h\n\n"));
    s.push_str(USAGE_BODY);
    s
}

const USAGE_BODY: &str = "Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
";

// ---------------------------------------------------------------------------
// popt emulation
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgKind {
    None,
    Required,
    Optional,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    AddService,
    EditService,
    DelService,
    Clear,
    ListUpper,
    ListLower,
    Zero,
    AddServer,
    EditServer,
    DelServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    Tcp,
    Udp,
    Sctp,
    Fwmark,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masq,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    DaemonOpt,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    /// `--json` (rvsadm extension)
    Json,
    /// `--resync-daemon` (rvsadm extension)
    ResyncDaemon,
}

struct OptDef {
    long: &'static str,
    short: u8,
    arg: ArgKind,
    tag: Tag,
}

const fn o(long: &'static str, short: u8, arg: ArgKind, tag: Tag) -> OptDef {
    OptDef {
        long,
        short,
        arg,
        tag,
    }
}

/// ipvsadm's popt option table, in its order (first match wins).
static OPTIONS: &[OptDef] = &[
    o("add-service", b'A', ArgKind::None, Tag::AddService),
    o("edit-service", b'E', ArgKind::None, Tag::EditService),
    o("delete-service", b'D', ArgKind::None, Tag::DelService),
    o("clear", b'C', ArgKind::None, Tag::Clear),
    o("list", b'L', ArgKind::None, Tag::ListUpper),
    o("list", b'l', ArgKind::None, Tag::ListLower),
    o("zero", b'Z', ArgKind::None, Tag::Zero),
    o("add-server", b'a', ArgKind::None, Tag::AddServer),
    o("edit-server", b'e', ArgKind::None, Tag::EditServer),
    o("delete-server", b'd', ArgKind::None, Tag::DelServer),
    o("set", 0, ArgKind::None, Tag::Set),
    o("help", b'h', ArgKind::None, Tag::Help),
    o("version", b'v', ArgKind::None, Tag::Version),
    o("restore", b'R', ArgKind::None, Tag::Restore),
    o("save", b'S', ArgKind::None, Tag::Save),
    o("start-daemon", 0, ArgKind::Required, Tag::StartDaemon),
    o("stop-daemon", 0, ArgKind::Required, Tag::StopDaemon),
    o("tcp-service", b't', ArgKind::Required, Tag::Tcp),
    o("udp-service", b'u', ArgKind::Required, Tag::Udp),
    o("sctp-service", 0, ArgKind::Required, Tag::Sctp),
    o("fwmark-service", b'f', ArgKind::Required, Tag::Fwmark),
    o("scheduler", b's', ArgKind::Required, Tag::Scheduler),
    o("persistent", b'p', ArgKind::Optional, Tag::Persistent),
    o("netmask", b'M', ArgKind::Required, Tag::Netmask),
    o("real-server", b'r', ArgKind::Required, Tag::RealServer),
    o("masquerading", b'm', ArgKind::None, Tag::Masq),
    o("ipip", b'i', ArgKind::None, Tag::Ipip),
    o("gatewaying", b'g', ArgKind::None, Tag::Gatewaying),
    o("weight", b'w', ArgKind::Required, Tag::Weight),
    o("u-threshold", b'x', ArgKind::Required, Tag::UThreshold),
    o("l-threshold", b'y', ArgKind::Required, Tag::LThreshold),
    o("numeric", b'n', ArgKind::None, Tag::Numeric),
    o("connection", b'c', ArgKind::None, Tag::Connection),
    o("mcast-interface", 0, ArgKind::Required, Tag::McastInterface),
    o("syncid", 0, ArgKind::Required, Tag::SyncId),
    o("timeout", 0, ArgKind::None, Tag::Timeout),
    o("daemon", 0, ArgKind::None, Tag::DaemonOpt),
    o("stats", 0, ArgKind::None, Tag::Stats),
    o("rate", 0, ArgKind::None, Tag::Rate),
    o("thresholds", 0, ArgKind::None, Tag::Thresholds),
    o("persistent-conn", 0, ArgKind::None, Tag::PersistentConn),
    o("nosort", 0, ArgKind::None, Tag::NoSort),
    o("sort", 0, ArgKind::None, Tag::Sort),
    o("exact", b'X', ArgKind::None, Tag::Exact),
    o("ipv6", b'6', ArgKind::None, Tag::Ipv6),
    o("ops", b'o', ArgKind::None, Tag::Ops),
    o("pe", 0, ArgKind::Required, Tag::Pe),
    o("sched-flags", b'b', ArgKind::Required, Tag::SchedFlags),
    o("mcast-group", 0, ArgKind::Required, Tag::McastGroup),
    o("mcast-port", 0, ArgKind::Required, Tag::McastPort),
    o("mcast-ttl", 0, ArgKind::Required, Tag::McastTtl),
    o("sync-maxlen", 0, ArgKind::Required, Tag::SyncMaxlen),
    o("tun-info", 0, ArgKind::None, Tag::TunInfo),
    o("tun-type", 0, ArgKind::Required, Tag::TunType),
    o("tun-port", 0, ArgKind::Required, Tag::TunPort),
    o("tun-nocsum", 0, ArgKind::None, Tag::TunNocsum),
    o("tun-csum", 0, ArgKind::None, Tag::TunCsum),
    o("tun-remcsum", 0, ArgKind::None, Tag::TunRemcsum),
    // rvsadm extensions (not in ipvsadm's table, so after all of its entries).
    o("json", 0, ArgKind::None, Tag::Json),
    o("resync-daemon", 0, ArgKind::Required, Tag::ResyncDaemon),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PoptErr {
    NoArg,
    BadOpt,
    UnwantedArg,
}

impl PoptErr {
    fn text(self) -> &'static str {
        match self {
            PoptErr::NoArg => "missing argument",
            PoptErr::BadOpt => "unknown option",
            PoptErr::UnwantedArg => "option does not take an argument",
        }
    }
}

enum Next {
    Opt(Tag, Option<String>),
    End,
    Err(PoptErr),
}

struct Popt<'a> {
    args: &'a [String],
    /// index of the next argv element to read
    next: usize,
    /// pending short-option cluster: (argv index, byte offset)
    next_char: Option<(usize, usize)>,
    rest_leftover: bool,
    posix: bool,
    leftovers: Vec<String>,
    next_leftover: usize,
}

impl<'a> Popt<'a> {
    fn new(args: &'a [String], posix: bool) -> Self {
        Popt {
            args,
            next: 0,
            next_char: None,
            rest_leftover: false,
            posix,
            leftovers: Vec::new(),
            next_leftover: 0,
        }
    }

    /// poptBadOption(POPT_BADOPTION_NOALIAS): the last argv element read.
    fn bad_option(&self) -> String {
        if self.next == 0 {
            String::new()
        } else {
            self.args[self.next - 1].clone()
        }
    }

    /// poptGetArg
    fn get_arg(&mut self) -> Option<String> {
        if self.next_leftover < self.leftovers.len() {
            self.next_leftover += 1;
            Some(self.leftovers[self.next_leftover - 1].clone())
        } else {
            None
        }
    }

    fn next_opt(&mut self) -> Next {
        loop {
            let mut long_arg: Option<String> = None;
            let mut opt: Option<&'static OptDef> = None;

            if self.next_char.is_none() && self.next == self.args.len() {
                return Next::End;
            }

            if self.next_char.is_none() {
                let idx = self.next;
                let s = &self.args[idx];
                self.next += 1;
                if self.rest_leftover || !s.starts_with('-') || s == "-" {
                    if self.posix {
                        self.rest_leftover = true;
                    }
                    self.leftovers.push(s.clone());
                    continue;
                }
                if s == "--" {
                    self.rest_leftover = true;
                    continue;
                }
                let (body, one_dash) = match s.strip_prefix("--") {
                    Some(b) => (b, false),
                    None => (&s[1..], true),
                };
                let (name, larg) = match body.find('=') {
                    Some(i) => (&body[..i], Some(body[i + 1..].to_string())),
                    None => (body, None),
                };
                if !one_dash {
                    opt = OPTIONS.iter().find(|d| d.long == name);
                    if opt.is_none() {
                        return Next::Err(PoptErr::BadOpt);
                    }
                    long_arg = larg;
                } else {
                    // No option of ipvsadm is ONEDASH: a single dash always
                    // starts a cluster of short options.
                    self.next_char = Some((idx, 1));
                }
            }

            if let Some((idx, off)) = self.next_char.take() {
                let bytes = self.args[idx].as_bytes();
                let c = bytes[off];
                opt = OPTIONS.iter().find(|d| d.short != 0 && d.short == c);
                if opt.is_none() {
                    return Next::Err(PoptErr::BadOpt);
                }
                if off + 1 < bytes.len() {
                    self.next_char = Some((idx, off + 1));
                }
            }

            let def = opt.expect("option resolved");
            if def.arg == ArgKind::None {
                let eq_next = match self.next_char {
                    Some((i, off)) => self.args[i].as_bytes()[off] == b'=',
                    None => false,
                };
                if long_arg.is_some() || eq_next {
                    return Next::Err(PoptErr::UnwantedArg);
                }
                return Next::Opt(def.tag, None);
            }

            let value: Option<String>;
            if let Some(l) = long_arg {
                value = Some(l);
            } else if let Some((i, off)) = self.next_char.take() {
                let rest = &self.args[i].as_bytes()[off..];
                let rest = if rest.first() == Some(&b'=') {
                    &rest[1..]
                } else {
                    rest
                };
                value = Some(String::from_utf8_lossy(rest).into_owned());
            } else if self.next == self.args.len() {
                if def.arg != ArgKind::Optional {
                    return Next::Err(PoptErr::NoArg);
                }
                value = None;
            } else if def.arg == ArgKind::Optional && self.args[self.next].starts_with('-') {
                value = None;
            } else {
                value = Some(self.args[self.next].clone());
                self.next += 1;
            }
            return Next::Opt(def.tag, value);
        }
    }
}

// ---------------------------------------------------------------------------
// ipvsadm's option/command tables
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
    /// rvsadm extension: `--resync-daemon`.
    ResyncDaemon,
}

impl Cmd {
    fn index(self) -> usize {
        match self {
            Cmd::Add => 0,
            Cmd::Edit => 1,
            Cmd::Del => 2,
            Cmd::Flush => 3,
            Cmd::List => 4,
            Cmd::AddDest => 5,
            Cmd::DelDest => 6,
            Cmd::EditDest => 7,
            Cmd::Timeout => 8,
            Cmd::StartDaemon => 9,
            Cmd::StopDaemon => 10,
            Cmd::Restore => 11,
            Cmd::Save => 12,
            Cmd::Zero => 13,
            Cmd::ResyncDaemon => 14,
        }
    }
}

const CMDNAMES: [&str; 15] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
    "resync-daemon",
];

const OPTC_NUMERIC: usize = 0;
const OPTC_CONNECTION: usize = 1;
const OPTC_SERVICE: usize = 2;
const OPTC_SCHEDULER: usize = 3;
const OPTC_PERSISTENT: usize = 4;
const OPTC_NETMASK: usize = 5;
const OPTC_SERVER: usize = 6;
const OPTC_FORWARD: usize = 7;
const OPTC_WEIGHT: usize = 8;
const OPTC_UTHRESHOLD: usize = 9;
const OPTC_LTHRESHOLD: usize = 10;
const OPTC_MCAST: usize = 11;
const OPTC_TIMEOUT: usize = 12;
const OPTC_DAEMON: usize = 13;
const OPTC_STATS: usize = 14;
const OPTC_RATE: usize = 15;
const OPTC_THRESHOLDS: usize = 16;
const OPTC_PERSISTENTCONN: usize = 17;
const OPTC_NOSORT: usize = 18;
const OPTC_SYNCID: usize = 19;
const OPTC_EXACT: usize = 20;
const OPTC_ONEPACKET: usize = 21;
const OPTC_PERSISTENCE_ENGINE: usize = 22;
const OPTC_SCHED_FLAGS: usize = 23;
const OPTC_MCAST_GROUP: usize = 24;
const OPTC_MCAST_PORT: usize = 25;
const OPTC_MCAST_TTL: usize = 26;
const OPTC_SYNC_MAXLEN: usize = 27;
const OPTC_TUN_INFO: usize = 28;
const OPTC_TUN_TYPE: usize = 29;
const OPTC_TUN_PORT: usize = 30;
const OPTC_TUN_NOCSUM: usize = 31;
const OPTC_TUN_CSUM: usize = 32;
const OPTC_TUN_REMCSUM: usize = 33;
/// rvsadm extension: `--json`.
const OPTC_JSON: usize = 34;
const NUMBER_OF_OPT: usize = 35;

const fn bit(optc: usize) -> u64 {
    1u64 << optc
}

const OPTNAMES: [&str; NUMBER_OF_OPT] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
    "json",
];

/// `commands_v_options`: '+' compulsory, 'x' illegal, '1' exclusive,
/// ' ' optional.  Columns in OPTC order.  The last column (`--json`) and
/// the last row (`--resync-daemon`) are rvsadm's own; the rest is
/// ipvsadm's.
const COMMANDS_V_OPTIONS: [&[u8; NUMBER_OF_OPT]; 15] = [
    //  -n -c svc -s -p -M -r fwd -w -x -y mc tot dmn st rt thr pc srt sid ex ops pe -b grp port ttl size tinf type tprt nocs csum remc json
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx", // ADD
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx", // EDIT
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // DEL
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // FLUSH
    b" 11xxxxxxxxx11       xxxxxxx xxxxx ", // LIST
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     x", // ADDSRV
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxx", // DELSRV
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     x", // EDITSRV
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // TIMEOUT
    b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxxx", // STARTD
    b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxx", // STOPD
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // RESTORE
    b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ", // SAVE
    b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // ZERO
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // RESYNCD
];

const TUNNAMES: [&str; 3] = ["ipip", "gue", "gre"];
/// Tunnel option columns: tun-port, tun-nocsum, tun-csum, tun-remcsum.
const TUNOPTS: [usize; 4] = [
    OPTC_TUN_PORT,
    OPTC_TUN_NOCSUM,
    OPTC_TUN_CSUM,
    OPTC_TUN_REMCSUM,
];
const TUNNEL_TYPES_V_OPTIONS: [&[u8; 4]; 3] = [
    b"xxxx", // ipip
    b"+111", // gue
    b"x11x", // gre
];

fn generic_opt_check(cmd: Cmd, options: u64) -> Result<(), CliError> {
    let i = cmd.index();
    let row = COMMANDS_V_OPTIONS[i];
    let mut last = 0usize;
    let mut count = 0;
    for j in 0..NUMBER_OF_OPT {
        if options & bit(j) == 0 {
            if row[j] == b'+' {
                return Err(fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPTNAMES[j], CMDNAMES[i]
                )));
            }
        } else {
            if row[j] == b'x' {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPTNAMES[j], CMDNAMES[i]
                )));
            }
            if row[j] == b'1' {
                count += 1;
                if count == 1 {
                    last = j;
                    continue;
                }
                return Err(fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' command",
                    OPTNAMES[j], OPTNAMES[last], CMDNAMES[i]
                )));
            }
        }
    }
    Ok(())
}

fn tunnel_opt_check(tun_type: u8, options: u64) -> Result<(), CliError> {
    let i = tun_type as usize;
    if i >= TUNNEL_TYPES_V_OPTIONS.len() {
        return Ok(());
    }
    let row = TUNNEL_TYPES_V_OPTIONS[i];
    let mut last = 0usize;
    let mut count = 0;
    for j in 0..TUNOPTS.len() {
        let k = TUNOPTS[j];
        if options & bit(k) == 0 {
            if row[j] == b'+' {
                return Err(fail(format!(
                    "You need to supply the '{}' option for the '{}' tunnel type",
                    OPTNAMES[k], TUNNAMES[i]
                )));
            }
        } else {
            if row[j] == b'x' {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' tunnel type",
                    OPTNAMES[k], TUNNAMES[i]
                )));
            }
            if row[j] == b'1' {
                count += 1;
                if count == 1 {
                    last = k;
                    continue;
                }
                return Err(fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                    OPTNAMES[k], OPTNAMES[last], TUNNAMES[i]
                )));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// C number helpers
// ---------------------------------------------------------------------------

fn is_c_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// `strtol(s, &end, 10)`: (value saturated to i64, range error, bytes
/// consumed; 0 when no digits).
fn strtol10(s: &str) -> (i64, bool, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut v: i128 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        if !overflow {
            v = v * 10 + (b[i] - b'0') as i128;
            if v > i64::MAX as i128 + 1 {
                overflow = true;
            }
        }
        i += 1;
    }
    if i == digits_start {
        return (0, false, 0);
    }
    let v = if neg { -v } else { v };
    if overflow || v > i64::MAX as i128 {
        return (i64::MAX, true, i);
    }
    if v < i64::MIN as i128 {
        return (i64::MIN, true, i);
    }
    (v as i64, false, i)
}

/// ipvsadm `string_to_number`: whole string must be a base-10 number in
/// [min, max].
fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let (v, erange, used) = strtol10(s);
    if used == 0 || used != s.len() || erange {
        return None;
    }
    if min <= v && v <= max {
        Some(v)
    } else {
        None
    }
}

/// C `atoi` as glibc implements it ((int) strtol(s, NULL, 10)).
fn atoi(s: &str) -> i32 {
    let (v, _, _) = strtol10(s);
    v as i32
}

fn str_is_digit(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_digit())
}

/// Truncate to at most `max` bytes on a char boundary (strncpy into a
/// fixed buffer).
fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

const SERVICE_ADDR: u32 = 1;
const SERVICE_PORT: u32 = 2;

struct ParsedAddr {
    result: u32,
    af: AddressFamily,
    addr: IpAddr,
    port: Option<u16>,
}

/// ipvsadm `parse_service` (host[:port], [v6]:port, v6, names).
fn parse_service(buf: &str, protocol: Protocol, names: &dyn NameService) -> Option<ParsedAddr> {
    if str_is_digit(buf) {
        return None;
    }
    let mut host: &str = buf;
    let mut portp: Option<&str> = None;
    if let Some(rest) = buf.strip_prefix('[') {
        let close = rest.find(']')?;
        host = &rest[..close];
        let after = &rest[close + 1..];
        if let Some(p) = after.strip_prefix(':') {
            portp = Some(p);
        } else {
            return None;
        }
    }
    let af;
    let addr;
    if let Some(a6) = addr::inet_pton6(host) {
        af = AddressFamily::Inet6;
        addr = IpAddr::V6(a6);
    } else {
        portp = None;
        if let Some(i) = host.rfind(':') {
            portp = Some(&host[i + 1..]);
            host = &host[..i];
        }
        if let Some(a4) = addr::inet_aton(host) {
            addr = IpAddr::V4(a4);
        } else if let Some(a4) = names.host_to_ipv4(host) {
            addr = IpAddr::V4(a4);
        } else {
            return None;
        }
        af = AddressFamily::Inet;
    }
    let mut result = SERVICE_ADDR;
    let mut port = None;
    if let Some(p) = portp {
        result |= SERVICE_PORT;
        if let Some(n) = string_to_number(p, 0, 65535) {
            port = Some(n as u16);
        } else if let Some(n) = service_to_port(p, protocol, names) {
            port = Some(n);
        } else {
            return None;
        }
    }
    Some(ParsedAddr {
        result,
        af,
        addr,
        port,
    })
}

fn service_to_port(name: &str, protocol: Protocol, names: &dyn NameService) -> Option<u16> {
    match protocol {
        Protocol::Tcp | Protocol::Udp | Protocol::Sctp => names.service_to_port(name, protocol),
        Protocol::Other(_) => None,
    }
}

fn parse_netmask(buf: &str, names: &dyn NameService) -> Option<u32> {
    if let Some(a) = addr::inet_aton(buf) {
        return Some(u32::from(a));
    }
    names.host_to_ipv4(buf).map(u32::from)
}

fn parse_timeout(buf: Option<&str>, min: i64, max: i64) -> Result<u32, CliError> {
    match buf {
        None => Ok(model::IPVS_SVC_PERSISTENT_TIMEOUT),
        Some(b) => match string_to_number(b, min, max) {
            Some(v) => Ok(v as u32),
            None => Err(fail(format!("invalid timeout value `{}' specified", b))),
        },
    }
}

fn parse_fwmark(buf: &str) -> Result<u32, CliError> {
    let (v, erange, used) = strtol10(buf);
    // (unsigned long) of a negative long is huge, hence > UINT_MAX.
    if used != buf.len() || used == 0 || erange || v <= 0 || v > u32::MAX as i64 {
        return Err(fail(format!("invalid fwmark value `{}' specified", buf)));
    }
    Ok(v as u32)
}

fn parse_sched_flags(sched: &str, arg: &str) -> Result<u32, CliError> {
    let sched = if sched.is_empty() {
        model::DEF_SCHED
    } else {
        sched
    };
    let mut flags = 0u32;
    let tokens: Vec<&str> = arg.split(',').filter(|t| !t.is_empty()).collect();
    if tokens.is_empty() {
        // ipvsadm dereferences a NULL token here and crashes; report it as
        // an invalid (empty) flag instead.
        return Err(fail("invalid scheduler flag `'"));
    }
    for flag in tokens {
        let (bits, needs) = match flag {
            "flag-1" => (model::IP_VS_SVC_F_SCHED1, None),
            "flag-2" => (model::IP_VS_SVC_F_SCHED2, None),
            "flag-3" => (model::IP_VS_SVC_F_SCHED3, None),
            "sh-fallback" => (model::IP_VS_SVC_F_SCHED_SH_FALLBACK, Some("sh")),
            "sh-port" => (model::IP_VS_SVC_F_SCHED_SH_PORT, Some("sh")),
            "mh-fallback" => (model::IP_VS_SVC_F_SCHED_MH_FALLBACK, Some("mh")),
            "mh-port" => (model::IP_VS_SVC_F_SCHED_MH_PORT, Some("mh")),
            _ => return Err(fail(format!("invalid scheduler flag `{}'", flag))),
        };
        flags |= bits;
        if let Some(s) = needs {
            if sched != s {
                return Err(fail(format!("incompatible scheduler flag `{}'", flag)));
            }
        }
    }
    Ok(flags)
}

// ---------------------------------------------------------------------------
// The parser proper (parse_options + process_options up to the kernel call)
// ---------------------------------------------------------------------------

fn set_option(options: &mut u64, optc: usize) -> Result<(), CliError> {
    if *options & bit(optc) != 0 {
        return Err(fail(format!(
            "multiple '{}' options specified",
            OPTNAMES[optc]
        )));
    }
    *options |= bit(optc);
    Ok(())
}

/// The full parser.  `reading_stdin` is true for commands read by `-R`
/// (where a nested `-R` is a usage error).  `posix` emulates popt's
/// POSIXLY_CORRECT handling (the first non-option ends option parsing).
fn parse_full(
    args: &[String],
    names: &dyn NameService,
    reading_stdin: bool,
    posix: bool,
) -> Result<Command, CliError> {
    // `ipvsadm` alone lists the table (non-numeric).
    if args.is_empty() {
        return Ok(Command::List {
            target: ListTarget::All,
            format: FormatFlags::default(),
        });
    }

    // As ipvsadm's: no protocol until -t, -u, --sctp-service or -f.  Its
    // unset (AF_UNSPEC) address families need no value of their own: a
    // command that compares them has set both.
    let mut svc = Service {
        protocol: Protocol::Other(model::IPPROTO_IP),
        ..Service::default()
    };
    let mut dest = Dest::default();
    let mut timeouts = Timeouts::default();
    let mut daemon = Daemon::default();
    let mut options: u64 = 0;
    let mut format = FormatFlags::default();
    let mut sched_flags_arg = String::new();

    let mut popt = Popt::new(args, posix);

    // The first option must be a command.
    let cmd = match popt.next_opt() {
        Next::Opt(tag, arg) => match tag {
            Tag::AddService => Cmd::Add,
            Tag::EditService => Cmd::Edit,
            Tag::DelService => Cmd::Del,
            Tag::AddServer => Cmd::AddDest,
            Tag::EditServer => Cmd::EditDest,
            Tag::DelServer => Cmd::DelDest,
            Tag::Clear => Cmd::Flush,
            Tag::ListUpper | Tag::ListLower => Cmd::List,
            Tag::Zero => Cmd::Zero,
            Tag::Set => Cmd::Timeout,
            Tag::Restore => Cmd::Restore,
            Tag::Save => Cmd::Save,
            Tag::StartDaemon => {
                match arg.as_deref() {
                    Some("master") => daemon.state = model::IP_VS_STATE_MASTER,
                    Some("backup") => daemon.state = model::IP_VS_STATE_BACKUP,
                    _ => return Err(fail("illegal start-daemon parameter specified")),
                }
                Cmd::StartDaemon
            }
            Tag::StopDaemon => {
                match arg.as_deref() {
                    Some("master") => daemon.state = model::IP_VS_STATE_MASTER,
                    Some("backup") => daemon.state = model::IP_VS_STATE_BACKUP,
                    _ => return Err(fail("illegal start_daemon specified")),
                }
                Cmd::StopDaemon
            }
            Tag::ResyncDaemon => {
                match arg.as_deref() {
                    Some("master") => daemon.state = model::IP_VS_STATE_MASTER,
                    Some("backup") => daemon.state = model::IP_VS_STATE_BACKUP,
                    _ => return Err(fail("illegal resync-daemon parameter specified")),
                }
                Cmd::ResyncDaemon
            }
            Tag::Help => return Ok(Command::Help),
            Tag::Version => return Ok(Command::Version),
            _ => return Err(tryhelp()),
        },
        Next::End | Next::Err(_) => return Err(tryhelp()),
    };

    let popt_error: Option<PoptErr>;
    loop {
        let (tag, arg) = match popt.next_opt() {
            Next::Opt(t, a) => (t, a),
            Next::End => {
                popt_error = None;
                break;
            }
            Next::Err(e) => {
                popt_error = Some(e);
                break;
            }
        };
        let a = arg.clone().unwrap_or_default();
        match tag {
            Tag::Tcp | Tag::Udp | Tag::Sctp => {
                set_option(&mut options, OPTC_SERVICE)?;
                svc.protocol = match tag {
                    Tag::Tcp => Protocol::Tcp,
                    Tag::Udp => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                let parsed = parse_service(&a, svc.protocol, names);
                match parsed {
                    Some(p) if p.result & SERVICE_ADDR != 0 => {
                        svc.af = p.af;
                        svc.addr = p.addr;
                        if p.af == AddressFamily::Inet6 {
                            svc.netmask = 128;
                        }
                        if let Some(port) = p.port {
                            svc.port = port;
                        }
                    }
                    _ => {
                        return Err(fail("illegal virtual server address[:port] specified"));
                    }
                }
            }
            Tag::Fwmark => {
                set_option(&mut options, OPTC_SERVICE)?;
                svc.af = AddressFamily::Inet;
                svc.protocol = Protocol::Tcp;
                svc.fwmark = parse_fwmark(&a)?;
            }
            Tag::Scheduler => {
                set_option(&mut options, OPTC_SCHEDULER)?;
                svc.sched_name = truncate_bytes(&a, model::IP_VS_SCHEDNAME_MAXLEN - 1);
            }
            Tag::Persistent => {
                set_option(&mut options, OPTC_PERSISTENT)?;
                svc.flags |= model::IP_VS_SVC_F_PERSISTENT;
                svc.timeout = parse_timeout(arg.as_deref(), 1, model::MAX_TIMEOUT as i64)?;
            }
            Tag::Netmask => {
                set_option(&mut options, OPTC_NETMASK)?;
                if svc.af != AddressFamily::Inet6 {
                    match parse_netmask(&a, names) {
                        Some(m) => svc.netmask = m,
                        None => {
                            return Err(fail("illegal virtual server persistent mask specified"))
                        }
                    }
                } else {
                    let m = atoi(&a) as u32;
                    if !(1..=128).contains(&m) {
                        return Err(fail("illegal ipv6 netmask specified"));
                    }
                    svc.netmask = m;
                }
            }
            Tag::RealServer => {
                set_option(&mut options, OPTC_SERVER)?;
                match parse_service(&a, svc.protocol, names) {
                    Some(p) if p.result & SERVICE_ADDR != 0 => {
                        dest.af = p.af;
                        dest.addr = p.addr;
                        // t_dest starts as a copy of the service, so an
                        // absent port means the service's current port.
                        dest.port = p.port.unwrap_or(svc.port);
                    }
                    _ => return Err(fail("illegal real server address[:port] specified")),
                }
            }
            Tag::Ipip => {
                set_option(&mut options, OPTC_FORWARD)?;
                dest.fwd_method = FwdMethod::Tunnel;
            }
            Tag::Gatewaying => {
                set_option(&mut options, OPTC_FORWARD)?;
                dest.fwd_method = FwdMethod::Route;
            }
            Tag::Masq => {
                set_option(&mut options, OPTC_FORWARD)?;
                dest.fwd_method = FwdMethod::Masq;
            }
            Tag::Weight => {
                set_option(&mut options, OPTC_WEIGHT)?;
                // Debian's ipvsadm accepts 0..INT_MAX (upstream: 0..65535).
                match string_to_number(&a, 0, i32::MAX as i64) {
                    Some(w) => dest.weight = w as i32,
                    None => return Err(fail("illegal weight specified")),
                }
            }
            Tag::UThreshold => {
                set_option(&mut options, OPTC_UTHRESHOLD)?;
                match string_to_number(&a, 0, i32::MAX as i64) {
                    Some(v) => dest.u_threshold = v as u32,
                    None => return Err(fail("illegal u_threshold specified")),
                }
            }
            Tag::LThreshold => {
                set_option(&mut options, OPTC_LTHRESHOLD)?;
                match string_to_number(&a, 0, i32::MAX as i64) {
                    Some(v) => dest.l_threshold = v as u32,
                    None => return Err(fail("illegal l_threshold specified")),
                }
            }
            Tag::Connection => set_option(&mut options, OPTC_CONNECTION)?,
            Tag::Numeric => {
                set_option(&mut options, OPTC_NUMERIC)?;
                format.numeric = true;
            }
            Tag::McastInterface => {
                set_option(&mut options, OPTC_MCAST)?;
                daemon.mcast_ifn = truncate_bytes(&a, model::IP_VS_IFNAME_MAXLEN - 1);
            }
            Tag::SyncId => {
                set_option(&mut options, OPTC_SYNCID)?;
                match string_to_number(&a, 0, 255) {
                    Some(v) => daemon.syncid = v as u32,
                    None => return Err(fail("illegal syncid specified")),
                }
            }
            Tag::Timeout => set_option(&mut options, OPTC_TIMEOUT)?,
            Tag::DaemonOpt => set_option(&mut options, OPTC_DAEMON)?,
            Tag::Stats => {
                set_option(&mut options, OPTC_STATS)?;
                format.stats = true;
            }
            Tag::Rate => {
                set_option(&mut options, OPTC_RATE)?;
                format.rate = true;
            }
            Tag::Thresholds => {
                set_option(&mut options, OPTC_THRESHOLDS)?;
                format.thresholds = true;
            }
            Tag::PersistentConn => {
                set_option(&mut options, OPTC_PERSISTENTCONN)?;
                format.persistent_conn = true;
            }
            Tag::NoSort => {
                set_option(&mut options, OPTC_NOSORT)?;
                format.nosort = true;
            }
            Tag::Sort => {}
            Tag::Exact => {
                set_option(&mut options, OPTC_EXACT)?;
                format.exact = true;
            }
            Tag::Ipv6 => {
                if svc.fwmark != 0 {
                    svc.af = AddressFamily::Inet6;
                    svc.addr = AddressFamily::Inet6.unspecified();
                    svc.netmask = 128;
                } else {
                    return Err(fail("-6 used before -f\n"));
                }
            }
            Tag::Ops => {
                set_option(&mut options, OPTC_ONEPACKET)?;
                svc.flags |= model::IP_VS_SVC_F_ONEPACKET;
            }
            Tag::Pe => {
                set_option(&mut options, OPTC_PERSISTENCE_ENGINE)?;
                svc.pe_name = truncate_bytes(&a, model::IP_VS_PENAME_MAXLEN);
            }
            Tag::SchedFlags => {
                set_option(&mut options, OPTC_SCHED_FLAGS)?;
                sched_flags_arg = truncate_bytes(&a, 127);
            }
            Tag::McastGroup => {
                set_option(&mut options, OPTC_MCAST_GROUP)?;
                if a.contains(':') {
                    match addr::inet_pton6(&a) {
                        Some(g) if g.octets()[0] == 0xff => {
                            daemon.mcast_group = Some(IpAddr::V6(g))
                        }
                        _ => return Err(fail(format!("invalid IPv6 mcast-group `{}'", a))),
                    }
                } else {
                    match addr::inet_pton4(&a) {
                        Some(g) if g.octets()[0] & 0xf0 == 0xe0 => {
                            daemon.mcast_group = Some(IpAddr::V4(g))
                        }
                        _ => return Err(fail(format!("invalid IPv4 mcast-group `{}'", a))),
                    }
                }
            }
            Tag::McastPort => {
                set_option(&mut options, OPTC_MCAST_PORT)?;
                match string_to_number(&a, 1, 65535) {
                    Some(v) => daemon.mcast_port = v as u16,
                    None => return Err(fail("illegal mcast-port specified")),
                }
            }
            Tag::McastTtl => {
                set_option(&mut options, OPTC_MCAST_TTL)?;
                match string_to_number(&a, 1, 255) {
                    Some(v) => daemon.mcast_ttl = v as u8,
                    None => return Err(fail("illegal mcast-ttl specified")),
                }
            }
            Tag::SyncMaxlen => {
                set_option(&mut options, OPTC_SYNC_MAXLEN)?;
                match string_to_number(&a, 1, 65535 - 20 - 8) {
                    Some(v) => daemon.sync_maxlen = v as u16,
                    None => return Err(fail("illegal sync-maxlen specified")),
                }
            }
            Tag::TunInfo => {
                set_option(&mut options, OPTC_TUN_INFO)?;
                format.tun_info = true;
            }
            Tag::TunType => {
                set_option(&mut options, OPTC_TUN_TYPE)?;
                dest.tun_type = match a.as_str() {
                    "ipip" => model::IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
                    "gue" => model::IP_VS_CONN_F_TUNNEL_TYPE_GUE,
                    "gre" => model::IP_VS_CONN_F_TUNNEL_TYPE_GRE,
                    _ => return Err(fail("illegal tunnel type specified")),
                };
            }
            Tag::TunPort => {
                set_option(&mut options, OPTC_TUN_PORT)?;
                match string_to_number(&a, 1, 65535) {
                    Some(v) => dest.tun_port = v as u16,
                    None => return Err(fail("illegal tunnel port specified")),
                }
            }
            Tag::TunNocsum => {
                set_option(&mut options, OPTC_TUN_NOCSUM)?;
                dest.tun_flags |= model::IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
            }
            Tag::TunCsum => {
                set_option(&mut options, OPTC_TUN_CSUM)?;
                dest.tun_flags |= model::IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
            }
            Tag::TunRemcsum => {
                set_option(&mut options, OPTC_TUN_REMCSUM)?;
                dest.tun_flags |= model::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
            }
            Tag::Json => {
                set_option(&mut options, OPTC_JSON)?;
                format.json = true;
            }
            _ => {
                // Commands, -h and -v are only valid as the first option.
                return Err(fail(format!("invalid option `{}'", popt.bad_option())));
            }
        }
    }

    if let Some(e) = popt_error {
        return Err(CliError {
            message: format!("{}: {}\n", popt.bad_option(), e.text()),
            exit_code: 255,
            fatal: false,
        });
    }

    if cmd == Cmd::Timeout {
        let a0 = popt.get_arg();
        let a1 = if a0.is_some() { popt.get_arg() } else { None };
        let a2 = if a1.is_some() { popt.get_arg() } else { None };
        match (a0, a1, a2) {
            (Some(t0), Some(t1), Some(t2)) => {
                let max = model::MAX_TIMEOUT as i64;
                timeouts.tcp = parse_timeout(Some(&t0), 0, max)?;
                timeouts.tcp_fin = parse_timeout(Some(&t1), 0, max)?;
                timeouts.udp = parse_timeout(Some(&t2), 0, max)?;
            }
            _ => return Err(fail("--set option requires 3 timeout values")),
        }
    }

    if let Some(extra) = popt.get_arg() {
        return Err(fail(format!("unexpected argument {}", extra)));
    }

    if !sched_flags_arg.is_empty() {
        svc.flags &= !model::IP_VS_SVC_F_SCHED_MASK;
        svc.flags |= parse_sched_flags(&svc.sched_name, &sched_flags_arg)?;
    }

    // process_options()
    generic_opt_check(cmd, options)?;

    if cmd == Cmd::Add || cmd == Cmd::Edit {
        if svc.fwmark == 0 && svc.port == 0 && svc.flags & model::IP_VS_SVC_F_PERSISTENT == 0 {
            return Err(fail("Zero port specified for non-persistent service"));
        }
        if svc.flags & model::IP_VS_SVC_F_ONEPACKET != 0
            && svc.fwmark == 0
            && svc.protocol != Protocol::Udp
        {
            return Err(fail(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
        if svc.sched_name.is_empty() {
            svc.sched_name = model::DEF_SCHED.to_string();
        }
    }

    if cmd == Cmd::StartDaemon && daemon.mcast_ifn.is_empty() {
        daemon.mcast_ifn = model::DEF_MCAST_IFN.to_string();
    }

    if cmd == Cmd::AddDest || cmd == Cmd::EditDest {
        let fwd_method = dest.fwd_method;
        if svc.fwmark == 0 && matches!(fwd_method, FwdMethod::Tunnel | FwdMethod::Route) {
            dest.port = svc.port;
        }
        if dest.af != svc.af && fwd_method != FwdMethod::Tunnel {
            return Err(fail(
                "Different address family is allowed only for tunneling servers",
            ));
        }
        let tun_opts = bit(OPTC_TUN_TYPE)
            | bit(OPTC_TUN_PORT)
            | bit(OPTC_TUN_NOCSUM)
            | bit(OPTC_TUN_CSUM)
            | bit(OPTC_TUN_REMCSUM);
        if options & tun_opts != 0 && fwd_method != FwdMethod::Tunnel {
            return Err(fail("Tunnel options conflict with forward method"));
        }
        tunnel_opt_check(dest.tun_type, options)?;
    }

    let service = svc;
    let real = dest;
    let cmd = match cmd {
        Cmd::List => {
            // rvsadm extension: `--daemon --stats` lists the daemons'
            // counters (ipvsadm refuses the combination).
            let stats_conflicts = if options & bit(OPTC_DAEMON) != 0 {
                0
            } else {
                bit(OPTC_STATS)
            };
            let conflict1 = options & (bit(OPTC_CONNECTION) | bit(OPTC_TIMEOUT) | bit(OPTC_DAEMON))
                != 0
                && options & (stats_conflicts | bit(OPTC_RATE) | bit(OPTC_THRESHOLDS)) != 0;
            let conflict2 = options & (bit(OPTC_TIMEOUT) | bit(OPTC_DAEMON)) != 0
                && options & bit(OPTC_PERSISTENTCONN) != 0;
            if conflict1 || conflict2 {
                return Err(fail("options conflicts in the list command"));
            }
            let target = if options & bit(OPTC_CONNECTION) != 0 {
                ListTarget::Connections
            } else if options & bit(OPTC_SERVICE) != 0 {
                ListTarget::Service(service)
            } else if options & bit(OPTC_TIMEOUT) != 0 {
                ListTarget::Timeout
            } else if options & bit(OPTC_DAEMON) != 0 {
                ListTarget::Daemon
            } else {
                ListTarget::All
            };
            Command::List { target, format }
        }
        Cmd::Restore => {
            if reading_stdin {
                return Err(tryhelp());
            }
            Command::Restore
        }
        Cmd::Save => {
            format.rule = true;
            Command::Save { format }
        }
        Cmd::Flush => Command::Flush,
        Cmd::Add => Command::AddService(service),
        Cmd::Edit => Command::EditService(service),
        Cmd::Del => Command::DelService(service),
        Cmd::Zero => {
            if options & bit(OPTC_SERVICE) != 0 {
                Command::Zero(Some(service))
            } else {
                Command::Zero(None)
            }
        }
        Cmd::AddDest => Command::AddDest(service, real),
        Cmd::EditDest => Command::EditDest(service, real),
        Cmd::DelDest => Command::DelDest(service, real),
        Cmd::Timeout => Command::SetTimeout(timeouts),
        Cmd::StartDaemon => Command::StartDaemon(daemon),
        Cmd::StopDaemon => Command::StopDaemon(daemon),
        Cmd::ResyncDaemon => Command::ResyncDaemon(daemon),
    };
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    use crate::names::Names;

    fn names() -> Names {
        Names::recorded()
    }

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn p(v: &[&str]) -> Result<Command, CliError> {
        parse(&args(v), &names(), false)
    }

    fn err(v: &[&str]) -> (String, i32) {
        match p(v) {
            Err(e) => (e.message, e.exit_code),
            Ok(c) => panic!("{:?} parsed as {:?}", v, c),
        }
    }

    // ------------------------------------------------------------------
    // Good commands
    // ------------------------------------------------------------------

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    #[test]
    fn no_arguments_lists_everything_non_numeric() {
        assert_eq!(
            p(&[]).unwrap(),
            Command::List {
                target: ListTarget::All,
                format: FormatFlags::default()
            }
        );
    }

    #[test]
    fn add_service_basic() {
        let c = p(&["-A", "-t", "192.168.10.100:80", "-s", "wrr"]).unwrap();
        let want = Service {
            af: AddressFamily::Inet,
            protocol: Protocol::Tcp,
            addr: v4("192.168.10.100"),
            port: 80,
            sched_name: "wrr".into(),
            netmask: 0xffff_ffff,
            ..Service::default()
        };
        assert_eq!(c, Command::AddService(want));
    }

    #[test]
    fn add_service_defaults_and_persistence() {
        match p(&[
            "-A",
            "-u",
            "10.1.1.1:domain",
            "-p",
            "-M",
            "255.255.255.0",
            "-o",
        ])
        .unwrap()
        {
            Command::AddService(s) => {
                assert_eq!(s.protocol, Protocol::Udp);
                assert_eq!(s.port, 53);
                assert_eq!(s.sched_name, "wlc");
                assert_eq!(s.timeout, 360);
                assert_eq!(
                    s.flags,
                    model::IP_VS_SVC_F_PERSISTENT | model::IP_VS_SVC_F_ONEPACKET
                );
                assert_eq!(s.netmask, 0xffff_ff00);
            }
            c => panic!("{:?}", c),
        }
        match p(&["-E", "-t", "1.2.3.4:80", "-p", "600"]).unwrap() {
            Command::EditService(s) => {
                assert_eq!(s.timeout, 600);
                assert_eq!(s.sched_name, "wlc");
            }
            c => panic!("{:?}", c),
        }
    }

    #[test]
    fn add_service_bundled_and_attached_forms() {
        for v in [
            &["-At1.2.3.4:80", "-srr"][..],
            &["-A", "-t", "1.2.3.4:80", "-s=rr"][..],
            &[
                "--add-service",
                "--tcp-service=1.2.3.4:80",
                "--scheduler",
                "rr",
            ][..],
        ] {
            match p(v).unwrap() {
                Command::AddService(s) => {
                    assert_eq!(s.addr, v4("1.2.3.4"));
                    assert_eq!(s.port, 80);
                    assert_eq!(s.sched_name, "rr");
                }
                c => panic!("{:?}", c),
            }
        }
    }

    #[test]
    fn fwmark_ipv6_and_sched_flags() {
        match p(&[
            "-A",
            "-f",
            "7",
            "-6",
            "-M",
            "64",
            "-p",
            "-s",
            "sh",
            "-b",
            "sh-port,sh-fallback",
        ])
        .unwrap()
        {
            Command::AddService(s) => {
                assert_eq!(s.fwmark, 7);
                assert_eq!(s.af, AddressFamily::Inet6);
                assert_eq!(s.addr, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
                assert_eq!(s.netmask, 64);
                assert_eq!(s.flags, 0x1 | 0x8 | 0x10);
            }
            c => panic!("{:?}", c),
        }
    }

    #[test]
    fn ipv6_service_and_dest() {
        match p(&[
            "-a",
            "-t",
            "[2001:db8::1]:443",
            "-r",
            "2001:db8::2",
            "-m",
            "-w",
            "3",
        ])
        .unwrap()
        {
            Command::AddDest(s, d) => {
                assert_eq!(s.af, AddressFamily::Inet6);
                assert_eq!(s.netmask, 128);
                assert_eq!(s.port, 443);
                assert_eq!(d.addr, "2001:db8::2".parse::<IpAddr>().unwrap());
                assert_eq!(d.port, 443);
                assert_eq!(d.fwd_method, FwdMethod::Masq);
                assert_eq!(d.weight, 3);
            }
            c => panic!("{:?}", c),
        }
    }

    #[test]
    fn dest_ports_follow_ipvsadm_rules() {
        // Direct routing forces the service port.
        match p(&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1:8080"]).unwrap() {
            Command::AddDest(_, d) => {
                assert_eq!(d.port, 80);
                assert_eq!(d.fwd_method, FwdMethod::Route);
                assert_eq!(d.weight, 1);
            }
            c => panic!("{:?}", c),
        }
        // Masquerading keeps it.
        match p(&[
            "-e",
            "-t",
            "1.2.3.4:80",
            "-r",
            "10.0.0.1:8080",
            "-m",
            "-x",
            "10",
            "-y",
            "5",
        ])
        .unwrap()
        {
            Command::EditDest(_, d) => {
                assert_eq!(d.port, 8080);
                assert_eq!((d.u_threshold, d.l_threshold), (10, 5));
            }
            c => panic!("{:?}", c),
        }
        // -r before -t: the service port is not known yet.
        match p(&["-a", "-r", "10.0.0.1", "-t", "1.2.3.4:80", "-m"]).unwrap() {
            Command::AddDest(_, d) => assert_eq!(d.port, 0),
            c => panic!("{:?}", c),
        }
        // Deleting keeps the given port even with the default -g.
        match p(&["-d", "-t", "1.2.3.4:80", "-r", "10.0.0.1:8080"]).unwrap() {
            Command::DelDest(_, d) => assert_eq!(d.port, 8080),
            c => panic!("{:?}", c),
        }
    }

    #[test]
    fn tunnel_dest_options() {
        match p(&[
            "-a",
            "-t",
            "1.2.3.4:80",
            "-r",
            "10.0.0.1",
            "-i",
            "--tun-type",
            "gue",
            "--tun-port",
            "6080",
            "--tun-remcsum",
        ])
        .unwrap()
        {
            Command::AddDest(_, d) => {
                assert_eq!(d.fwd_method, FwdMethod::Tunnel);
                assert_eq!(d.tun_type, model::IP_VS_CONN_F_TUNNEL_TYPE_GUE);
                assert_eq!(d.tun_port, 6080);
                assert_eq!(d.tun_flags, model::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM);
            }
            c => panic!("{:?}", c),
        }
    }

    #[test]
    fn list_variants() {
        let f = |v: &[&str]| match p(v).unwrap() {
            Command::List { target, format } => (target, format),
            c => panic!("{:?}", c),
        };
        let (t, fm) = f(&["-Ln", "--stats", "--exact", "--nosort"]);
        assert_eq!(t, ListTarget::All);
        assert!(fm.numeric && fm.stats && fm.exact && fm.nosort && !fm.rule);
        assert_eq!(f(&["-l", "-c"]).0, ListTarget::Connections);
        assert_eq!(f(&["-L", "--timeout"]).0, ListTarget::Timeout);
        assert_eq!(f(&["-L", "--daemon"]).0, ListTarget::Daemon);
        assert!(!f(&["-L", "--daemon"]).1.stats);
        // rvsadm extension: --stats with --daemon (the daemons' counters).
        for v in [
            &["-L", "--daemon", "--stats"][..],
            &["-l", "--stats", "--daemon"],
            &["-Ln", "--daemon", "--stats", "--exact"],
        ] {
            let (t, fm) = f(v);
            assert_eq!(t, ListTarget::Daemon, "{v:?}");
            assert!(fm.stats && !fm.json, "{v:?}");
        }
        let (t, fm) = f(&["-L", "--daemon", "--stats", "--json"]);
        assert!(t == ListTarget::Daemon && fm.stats && fm.json);
        assert!(matches!(
            f(&["-L", "-t", "1.2.3.4:80"]).0,
            ListTarget::Service(_)
        ));
        assert!(f(&["-L", "--sort", "--sort"]).1 == FormatFlags::default());
        assert!(f(&["-LX", "--rate"]).1.exact);
    }

    #[test]
    fn json_option() {
        let f = |v: &[&str]| match p(v).unwrap() {
            Command::List { target, format } => (target, format),
            c => panic!("{:?}", c),
        };
        let json = FormatFlags {
            json: true,
            ..FormatFlags::default()
        };
        assert_eq!(f(&["-L", "--json"]), (ListTarget::All, json));
        assert_eq!(f(&["-l", "--json"]).1, json);
        assert_eq!(f(&["-Lc", "--json"]), (ListTarget::Connections, json));
        assert_eq!(
            f(&["-L", "--json", "--timeout"]),
            (ListTarget::Timeout, json)
        );
        assert_eq!(f(&["-L", "--daemon", "--json"]), (ListTarget::Daemon, json));
        let (t, fm) = f(&["-L", "-t", "1.2.3.4:80", "--json"]);
        assert!(matches!(t, ListTarget::Service(s) if s.port == 80));
        assert!(fm.json);
        let (_, fm) = f(&["-Ln", "--json", "--stats", "--exact", "--nosort"]);
        assert!(fm.json && fm.numeric && fm.stats && fm.exact && fm.nosort);
        let (_, fm) = f(&["-Lc", "--json", "--persistent-conn"]);
        assert!(fm.json && fm.persistent_conn);
        assert!(
            f(&["-L", "--rate", "--thresholds", "--tun-info", "--json"])
                .1
                .json
        );
        assert_eq!(
            p(&["-S", "--json"]).unwrap(),
            Command::Save {
                format: FormatFlags {
                    rule: true,
                    json: true,
                    ..Default::default()
                }
            }
        );
        assert_eq!(
            p(&["-Sn", "--json"]).unwrap(),
            Command::Save {
                format: FormatFlags {
                    rule: true,
                    numeric: true,
                    json: true,
                    ..Default::default()
                }
            }
        );
        // Without --json nothing changes.
        assert!(!f(&["-L"]).1.json);
        assert!(!f(&[]).1.json);
    }

    #[test]
    fn other_commands() {
        assert_eq!(p(&["-C"]).unwrap(), Command::Flush);
        assert_eq!(p(&["-Z"]).unwrap(), Command::Zero(None));
        assert!(matches!(p(&["-Z", "-f", "3"]).unwrap(), Command::Zero(Some(s)) if s.fwmark == 3));
        assert_eq!(p(&["-R"]).unwrap(), Command::Restore);
        assert_eq!(p(&["-h", "--bogus"]).unwrap(), Command::Help);
        assert_eq!(p(&["-v"]).unwrap(), Command::Version);
        assert_eq!(
            p(&["-Sn"]).unwrap(),
            Command::Save {
                format: FormatFlags {
                    rule: true,
                    numeric: true,
                    ..Default::default()
                }
            }
        );
        assert_eq!(
            p(&["--set", "900", "120", "300"]).unwrap(),
            Command::SetTimeout(Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300
            })
        );
        assert_eq!(
            p(&["1", "--set", "--", "2", "3"]).unwrap(),
            Command::SetTimeout(Timeouts {
                tcp: 1,
                tcp_fin: 2,
                udp: 3
            })
        );
        match p(&[
            "--start-daemon",
            "backup",
            "--mcast-group",
            "ff02::81",
            "--syncid",
            "9",
        ])
        .unwrap()
        {
            Command::StartDaemon(d) => {
                assert_eq!(d.state, model::IP_VS_STATE_BACKUP);
                assert_eq!(d.mcast_ifn, "eth0");
                assert_eq!(d.syncid, 9);
                assert_eq!(d.mcast_group, Some("ff02::81".parse().unwrap()));
            }
            c => panic!("{:?}", c),
        }
        match p(&["--stop-daemon", "master"]).unwrap() {
            Command::StopDaemon(d) => {
                assert_eq!(d.state, model::IP_VS_STATE_MASTER);
                assert_eq!(d.mcast_ifn, "");
            }
            c => panic!("{:?}", c),
        }
        // rvsadm extension: --resync-daemon, only the state.
        let resync = |state| {
            Command::ResyncDaemon(Daemon {
                state,
                ..Daemon::default()
            })
        };
        assert_eq!(
            p(&["--resync-daemon", "master"]).unwrap(),
            resync(model::IP_VS_STATE_MASTER)
        );
        assert_eq!(
            p(&["--resync-daemon", "backup"]).unwrap(),
            resync(model::IP_VS_STATE_BACKUP)
        );
        assert_eq!(
            p(&["--resync-daemon=backup"]).unwrap(),
            resync(model::IP_VS_STATE_BACKUP)
        );
        assert_eq!(
            p(&["--resync-daemon", "master", "--"]).unwrap(),
            resync(model::IP_VS_STATE_MASTER)
        );
    }

    #[test]
    fn address_quirks() {
        let svc = |a: &str| match p(&["-A", "-t", a, "-p"]).unwrap() {
            Command::AddService(s) => (s.addr, s.port),
            c => panic!("{:?}", c),
        };
        assert_eq!(svc("010.0.0.1:80"), (v4("8.0.0.1"), 80));
        assert_eq!(svc("0x7f.1:http"), (v4("127.0.0.1"), 80));
        assert_eq!(svc("[1.2.3.4]:80"), (v4("1.2.3.4"), 0));
        assert_eq!(svc("[1.2.3.4:80]:90"), (v4("1.2.3.4"), 80));
        assert_eq!(svc("localhost:www"), (v4("127.0.0.1"), 80));
        assert_eq!(svc("1.2.3.4: 80"), (v4("1.2.3.4"), 80));
        assert_eq!(svc("fe80::1:80"), ("fe80::1:80".parse().unwrap(), 0));
    }

    #[test]
    fn long_names_are_truncated_like_c_buffers() {
        match p(&[
            "-A",
            "-t",
            "1.2.3.4:80",
            "-s",
            "averyveryverylongschedulername",
        ])
        .unwrap()
        {
            Command::AddService(s) => assert_eq!(s.sched_name, "averyveryverylo"),
            c => panic!("{:?}", c),
        }
    }

    #[test]
    fn posix_mode_stops_at_first_non_option() {
        let a = args(&["--set", "1", "2", "3", "-n"]);
        let e = parse(&a, &names(), true).unwrap_err();
        assert_eq!(e.message, "unexpected argument -n\n");
        let e = parse(&a, &names(), false).unwrap_err();
        assert_eq!(
            e.message,
            "Illegal 'numeric' option with the 'set' command\n"
        );
    }

    // ------------------------------------------------------------------
    // Bad input: exact messages and exit codes
    // ------------------------------------------------------------------

    #[test]
    fn bad_inputs() {
        const TRY: &str = "Try `rvsadm -h' or 'rvsadm --help' for more information.\n";
        let table: &[(&[&str], &str, i32)] = &[
            (&["-n", "-L"], TRY, 255),
            (&["foo"], TRY, 255),
            (&["-"], TRY, 255),
            (&["--bogus"], TRY, 255),
            (&["-t", "1.2.3.4:80"], TRY, 255),
            (&["--list=5"], TRY, 255),
            (&["--start-daemon"], TRY, 255),
            (&["-A", "-t"], "-t: missing argument\n", 255),
            (&["-A", "-t", "1.2.3.4:80", "--foo"], "--foo: unknown option\n", 255),
            (&["-Lq"], "-Lq: unknown option\n", 255),
            (&["-L", "--numeric=5"], "--numeric=5: option does not take an argument\n", 255),
            (&["--set", "1", "-2", "3"], "-2: unknown option\n", 255),
            (&["-LA"], "invalid option `-LA'\n", 2),
            (&["-L", "-h"], "invalid option `-h'\n", 2),
            (&["-L", "--start-daemon", "master"], "invalid option `master'\n", 2),
            (&["-A", "-t", "1.2.3.4"], "Zero port specified for non-persistent service\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-o"], "One-Packet Scheduling is only for UDP virtual services\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-p", "abc"], "invalid timeout value `abc' specified\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-p", "0"], "invalid timeout value `0' specified\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-p", "2678401"], "invalid timeout value `2678401' specified\n", 2),
            (&["-Apt", "1.2.3.4:80"], "invalid timeout value `t' specified\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-n"], "Illegal 'numeric' option with the 'add-service' command\n", 2),
            (&["-A"], "You need to supply the 'service-address' option for the 'add-service' command\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-t", "1.2.3.4:81"], "multiple 'service-address' options specified\n", 2),
            (&["-A", "-6", "-f", "1"], "-6 used before -f\n\n", 2),
            (&["-A", "-t", "[::1]"], "illegal virtual server address[:port] specified\n", 2),
            (&["-A", "-t", "1.2.3.4:65536"], "illegal virtual server address[:port] specified\n", 2),
            (&["-A", "-t", "1234"], "illegal virtual server address[:port] specified\n", 2),
            (&["-A", "-u", "1.2.3.4:http"], "illegal virtual server address[:port] specified\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-M", "bogus"], "illegal virtual server persistent mask specified\n", 2),
            (&["-A", "-f", "1", "-6", "-M", "129"], "illegal ipv6 netmask specified\n", 2),
            (&["-A", "-f", "0"], "invalid fwmark value `0' specified\n", 2),
            (&["-A", "-f", "4294967296"], "invalid fwmark value `4294967296' specified\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-b", "sh-port"], "incompatible scheduler flag `sh-port'\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-s", "mh", "-b", "sh-port"], "incompatible scheduler flag `sh-port'\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-b", "foo"], "invalid scheduler flag `foo'\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-b", ","], "invalid scheduler flag `'\n", 2),
            (&["-a", "-t", "1.2.3.4:80"], "You need to supply the 'real-server' option for the 'add-server' command\n", 2),
            (&["-a", "-r", "10.0.0.1:http", "-t", "1.2.3.4:80", "-m"], "illegal real server address[:port] specified\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-w", "2147483648"], "illegal weight specified\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-w", "-1"], "illegal weight specified\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-x", "-1"], "illegal u_threshold specified\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-y", "abc"], "illegal l_threshold specified\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-m", "-g"], "multiple 'forwarding-method' options specified\n", 2),
            (&["-a", "-t", "[2001:db8::1]:443", "-r", "[2001:db8::2]"], "illegal real server address[:port] specified\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "[::1]:80", "-m"], "Different address family is allowed only for tunneling servers\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "--tun-type", "gue"], "Tunnel options conflict with forward method\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-i", "--tun-type", "gue"], "You need to supply the 'tun-port' option for the 'gue' tunnel type\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-i", "--tun-type", "gre", "--tun-port", "1"], "Illegal 'tun-port' option with the 'gre' tunnel type\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-i", "--tun-type", "gre", "--tun-csum", "--tun-nocsum"], "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-i", "--tun-type", "vxlan"], "illegal tunnel type specified\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-i", "--tun-type", "gue", "--tun-port", "0"], "illegal tunnel port specified\n", 2),
            (&["-d", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "-w", "1"], "Illegal 'weight' option with the 'delete-server' command\n", 2),
            (&["-D", "-t", "1.2.3.4:80", "-s", "rr"], "Illegal 'scheduler' option with the 'delete-service' command\n", 2),
            (&["-C", "x"], "unexpected argument x\n", 2),
            (&["-Z", "-n"], "Illegal 'numeric' option with the 'zero' command\n", 2),
            (&["-S", "-c"], "Illegal 'connection' option with the 'save' command\n", 2),
            (&["-R", "-n"], "Illegal 'numeric' option with the 'restore' command\n", 2),
            (&["-L", "--timeout", "-c"], "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n", 2),
            (&["-L", "-t", "1.2.3.4:80", "-c"], "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n", 2),
            (&["-L", "-c", "--stats"], "options conflicts in the list command\n", 2),
            (&["-L", "--timeout", "--persistent-conn"], "options conflicts in the list command\n", 2),
            (&["-L", "-n", "-n"], "multiple 'numeric' options specified\n", 2),
            (&["-L", "-s", "rr"], "Illegal 'scheduler' option with the 'list' command\n", 2),
            (&["--set", "1", "2"], "--set option requires 3 timeout values\n", 2),
            (&["--set", "1", "2", "3", "4"], "unexpected argument 4\n", 2),
            (&["--set", "a", "2", "3"], "invalid timeout value `a' specified\n", 2),
            (&["--start-daemon", "foo"], "illegal start-daemon parameter specified\n", 2),
            (&["--stop-daemon", "foo"], "illegal start_daemon specified\n", 2),
            (&["--start-daemon", "master", "--syncid", "256"], "illegal syncid specified\n", 2),
            (&["--start-daemon", "backup", "--mcast-group", "1.2.3.4"], "invalid IPv4 mcast-group `1.2.3.4'\n", 2),
            (&["--start-daemon", "master", "--mcast-group", "fe80::1"], "invalid IPv6 mcast-group `fe80::1'\n", 2),
            (&["--start-daemon", "backup", "--mcast-port", "0"], "illegal mcast-port specified\n", 2),
            (&["--start-daemon", "backup", "--mcast-ttl", "256"], "illegal mcast-ttl specified\n", 2),
            (&["--start-daemon", "backup", "--sync-maxlen", "65508"], "illegal sync-maxlen specified\n", 2),
            (&["--stop-daemon", "master", "--mcast-interface", "eth1"], "Illegal 'mcast-interface' option with the 'stop-daemon' command\n", 2),
            // --json (rvsadm extension) follows the rules of the listing options.
            (&["--json"], TRY, 255),
            (&["--json", "-L"], TRY, 255),
            (&["-L", "--json=1"], "--json=1: option does not take an argument\n", 255),
            (&["-L", "--js"], "--js: unknown option\n", 255),
            (&["-L", "--json", "--json"], "multiple 'json' options specified\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "--json"], "Illegal 'json' option with the 'add-service' command\n", 2),
            (&["-E", "-t", "1.2.3.4:80", "--json"], "Illegal 'json' option with the 'edit-service' command\n", 2),
            (&["-D", "-t", "1.2.3.4:80", "--json"], "Illegal 'json' option with the 'delete-service' command\n", 2),
            (&["-C", "--json"], "Illegal 'json' option with the 'flush' command\n", 2),
            (&["-Z", "--json"], "Illegal 'json' option with the 'zero' command\n", 2),
            (&["-R", "--json"], "Illegal 'json' option with the 'restore' command\n", 2),
            (&["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "--json"], "Illegal 'json' option with the 'add-server' command\n", 2),
            (&["-e", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "--json"], "Illegal 'json' option with the 'edit-server' command\n", 2),
            (&["-d", "-t", "1.2.3.4:80", "-r", "10.0.0.1", "--json"], "Illegal 'json' option with the 'delete-server' command\n", 2),
            (&["--set", "1", "2", "3", "--json"], "Illegal 'json' option with the 'set' command\n", 2),
            (&["--start-daemon", "master", "--json"], "Illegal 'json' option with the 'start-daemon' command\n", 2),
            (&["--stop-daemon", "master", "--json"], "Illegal 'json' option with the 'stop-daemon' command\n", 2),
            // --resync-daemon (rvsadm extension), in the style of --stop-daemon.
            (&["--resync-daemon"], TRY, 255),
            (&["--resync-daemon", "foo"], "illegal resync-daemon parameter specified\n", 2),
            (&["--resync-daemon", "Master"], "illegal resync-daemon parameter specified\n", 2),
            (&["--resync-daemon", ""], "illegal resync-daemon parameter specified\n", 2),
            (&["--resync", "master"], TRY, 255),
            (&["--resync-daemon", "master", "x"], "unexpected argument x\n", 2),
            (&["--resync-daemon", "master", "--bogus"], "--bogus: unknown option\n", 255),
            (&["-L", "--resync-daemon", "master"], "invalid option `master'\n", 2),
            (&["--resync-daemon", "master", "--stop-daemon", "master"], "invalid option `master'\n", 2),
            (&["--resync-daemon", "master", "--syncid", "3"], "Illegal 'syncid' option with the 'resync-daemon' command\n", 2),
            (&["--resync-daemon", "backup", "--mcast-interface", "eth1"], "Illegal 'mcast-interface' option with the 'resync-daemon' command\n", 2),
            (&["--resync-daemon", "backup", "--mcast-group", "224.0.0.81"], "Illegal 'mcast-group' option with the 'resync-daemon' command\n", 2),
            (&["--resync-daemon", "master", "-n"], "Illegal 'numeric' option with the 'resync-daemon' command\n", 2),
            (&["--resync-daemon", "master", "--json"], "Illegal 'json' option with the 'resync-daemon' command\n", 2),
            // -L --daemon takes --stats (rvsadm extension), not the others.
            (&["-L", "--daemon", "--rate"], "options conflicts in the list command\n", 2),
            (&["-L", "--daemon", "--stats", "--rate"], "options conflicts in the list command\n", 2),
            (&["-L", "--daemon", "--thresholds"], "options conflicts in the list command\n", 2),
            (&["-L", "--daemon", "--stats", "--persistent-conn"], "options conflicts in the list command\n", 2),
            (&["-L", "--timeout", "--stats"], "options conflicts in the list command\n", 2),
            (&["-L", "--daemon", "--stats", "--stats"], "multiple 'stats' options specified\n", 2),
            (&["-L", "--daemon", "-c", "--stats"], "The option 'daemon' conflicts with the 'connection' option in the 'list' command\n", 2),
            // The checks ipvsadm makes for listing options still come first.
            (&["-S", "--json", "--stats"], "Illegal 'stats' option with the 'save' command\n", 2),
            (&["-A", "-t", "1.2.3.4:80", "-n", "--json"], "Illegal 'numeric' option with the 'add-service' command\n", 2),
            (&["-L", "-c", "--stats", "--json"], "options conflicts in the list command\n", 2),
            (&["-L", "--json", "--timeout", "-c"], "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n", 2),
        ];
        assert!(table.len() >= 40);
        for (argv, msg, code) in table {
            assert_eq!(err(argv), (msg.to_string(), *code), "args {:?}", argv);
        }
        // popt errors after the command do not end a restore; fail() does.
        assert!(!p(&["-A", "--foo"]).unwrap_err().fatal);
        assert!(p(&["-A", "-t", "1.2.3.4"]).unwrap_err().fatal);
        assert!(p(&["bogus"]).unwrap_err().fatal);
    }

    /// `-R` input, parsed line by line as `rvsadm -R` parses it.
    fn restore(input: &str) -> Vec<Result<Command, CliError>> {
        restore_lines(input)
            .iter()
            .map(|args| parse_restore_args(args, &names(), false))
            .collect()
    }

    #[test]
    fn restore_parsing() {
        assert_eq!(restore("  \t\r\n"), []);
        assert_eq!(restore("ipvsadm"), []);
        assert_eq!(restore("ipvsadm -C"), [Ok(Command::Flush)]);
        match &restore("-A -t 192.168.10.100:80 -s wrr\n")[..] {
            [Ok(Command::AddService(s))] => assert_eq!(s.sched_name, "wrr"),
            c => panic!("{:?}", c),
        }
        let e = restore("-R").remove(0).unwrap_err();
        assert_eq!(
            e.message,
            "Try `rvsadm -h' or 'rvsadm --help' for more information.\n"
        );
        let e = restore("# comment").remove(0).unwrap_err();
        assert!(e.fatal && e.exit_code == 255);
        let e = restore("-C # comment").remove(0).unwrap_err();
        assert_eq!(e.message, "unexpected argument #\n");
        assert_eq!(
            restore("ipvsadm --resync-daemon backup"),
            [Ok(Command::ResyncDaemon(Daemon {
                state: model::IP_VS_STATE_BACKUP,
                ..Daemon::default()
            }))]
        );

        let sv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            restore_lines("-A -t 1.2.3.4:80\n\n  ipvsadm -C  \r\n-a ipvsadm -t x\n"),
            vec![
                sv(&["-A", "-t", "1.2.3.4:80"]),
                sv(&["-C"]),
                sv(&["-a", "-t", "x"])
            ]
        );
        assert_eq!(restore_lines("-C"), vec![sv(&["-C"])]);
        // Blanks without a final newline after the last token drop it.
        assert_eq!(restore_lines("-Z\n-C \t"), vec![sv(&["-Z"])]);
        assert_eq!(restore_lines(""), Vec::<Vec<String>>::new());
        assert_eq!(restore_lines("ipvsadm\n-C\n"), vec![sv(&["-C"])]);
    }

    #[test]
    fn usage_and_version_texts() {
        let u = usage_text();
        assert!(u.starts_with(
            "rvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n  rvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n"
        ));
        assert!(u.ends_with("  --mcast-ttl ttl                     Multicast TTL (default=1)\n"));
        assert_eq!(u.lines().count(), 82);
        assert!(!u.contains("--resync-daemon"));
        assert_eq!(
            version_text(),
            "rvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
        );
    }
}
