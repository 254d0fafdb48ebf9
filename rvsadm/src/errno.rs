//! libipvs's error texts: the message ipvsadm prints for an errno, chosen
//! by the libipvs call that failed.

/// The libipvs operation that failed; selects the message of
/// [`ipvs_strerror`] (libipvs keys its table on the last called function).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    GetInfo,
    Flush,
    AddService,
    UpdateService,
    DelService,
    ZeroService,
    AddDest,
    UpdateDest,
    DelDest,
    SetTimeout,
    StartDaemon,
    StopDaemon,
    /// rvs extension: `--resync-daemon`.
    ResyncDaemon,
    GetServices,
    GetService,
    GetDests,
    GetTimeout,
    GetDaemon,
}

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ESRCH: i32 = 3;
pub const ENOMEM: i32 = 12;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const EMSGSIZE: i32 = 90;
pub const ENOPROTOOPT: i32 = 92;
pub const EOPNOTSUPP: i32 = 95;
pub const EAFNOSUPPORT: i32 = 97;

/// Message ipvsadm prints (followed by a newline) when a libipvs call fails
/// with `errno` (a positive errno value), e.g. "Service not defined".
pub fn ipvs_strerror(op: Op, errno: i32) -> String {
    use Op::*;
    let specific: &[(Op, i32, &str)] = &[
        (AddService, EEXIST, "Service already exists"),
        (
            AddService,
            ENOENT,
            "Scheduler or persistence engine not found",
        ),
        (UpdateService, ESRCH, "No such service"),
        (
            UpdateService,
            ENOENT,
            "Scheduler or persistence engine not found",
        ),
        (DelService, ESRCH, "No such service"),
        (ZeroService, ESRCH, "No such service"),
        (AddDest, ESRCH, "Service not defined"),
        (AddDest, EEXIST, "Destination already exists"),
        (UpdateDest, ESRCH, "Service not defined"),
        (UpdateDest, ENOENT, "No such destination"),
        (DelDest, ESRCH, "Service not defined"),
        (DelDest, ENOENT, "No such destination"),
        (StartDaemon, EEXIST, "Daemon has already run"),
        (StopDaemon, ESRCH, "No daemon is running"),
        // rvs extension: as `--stop-daemon`.
        (ResyncDaemon, ESRCH, "No daemon is running"),
        (GetServices, ESRCH, "No such service"),
        (GetDests, ESRCH, "No such service"),
        (GetService, ESRCH, "No such service"),
    ];
    for (o, e, m) in specific {
        if *o == op && *e == errno {
            return (*m).to_string();
        }
    }
    let generic: &[(i32, &str)] = &[
        (EPERM, "Permission denied (you must be root)"),
        (
            EINVAL,
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (ENOPROTOOPT, "Protocol not available"),
        (ENOMEM, "Memory allocation problem"),
        (EOPNOTSUPP, "Operation not supported with IPv6"),
        (
            EAFNOSUPPORT,
            "Operation not supported with specified address family",
        ),
        (EMSGSIZE, "Module is wrong version"),
    ];
    for (e, m) in generic {
        if *e == errno {
            return (*m).to_string();
        }
    }
    strerror(errno)
}

/// The C library's `strerror` text for `errno`.
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    // std formats "Message (os error N)".
    let suffix = format!(" (os error {})", errno);
    match s.strip_suffix(&suffix) {
        Some(m) => m.to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(Op, i32, &str)]) {
        for &(op, errno, text) in cases {
            assert_eq!(ipvs_strerror(op, errno), text, "{op:?} {errno}");
        }
    }

    #[test]
    fn strerror_texts() {
        check(&[
            (Op::AddDest, ESRCH, "Service not defined"),
            (Op::DelService, ESRCH, "No such service"),
            (Op::AddService, EEXIST, "Service already exists"),
            (Op::AddDest, ENOMEM, "Memory allocation problem"),
            (Op::Flush, EPERM, "Permission denied (you must be root)"),
            (Op::Flush, ESRCH, "No such process"),
            (Op::UpdateDest, ENOENT, "No such destination"),
            (Op::Flush, ENOENT, "No such file or directory"),
            (
                Op::AddService,
                EAFNOSUPPORT,
                "Operation not supported with specified address family",
            ),
        ]);
    }

    #[test]
    fn strerror_daemon_texts() {
        // libipvs keys these two on ipvs_start_daemon / ipvs_stop_daemon;
        // rvs's --resync-daemon says what --stop-daemon says.
        check(&[
            (Op::StartDaemon, EEXIST, "Daemon has already run"),
            (Op::StopDaemon, ESRCH, "No daemon is running"),
            (Op::ResyncDaemon, ESRCH, "No daemon is running"),
        ]);
        // Everything else is libipvs's generic table or strerror().
        check(&[
            (Op::StartDaemon, ESRCH, "No such process"),
            (Op::StopDaemon, EEXIST, "File exists"),
            (Op::ResyncDaemon, EEXIST, "File exists"),
            (Op::StartDaemon, 19 /* ENODEV */, "No such device"),
        ]);
        for op in [Op::StartDaemon, Op::StopDaemon, Op::ResyncDaemon] {
            check(&[
                (
                    op,
                    EINVAL,
                    "Invalid operation.  Possibly wrong module version, address not unicast, ...",
                ),
                (op, EPERM, "Permission denied (you must be root)"),
                (op, ENOMEM, "Memory allocation problem"),
                (op, EOPNOTSUPP, "Operation not supported with IPv6"),
            ]);
        }
    }
}
