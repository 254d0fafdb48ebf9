//! rvsadm: administration of rvs, the Rust Linux Virtual Server, with the
//! command line and output formats of ipvsadm 1.31.

mod netlink;

use std::process::ExitCode;

use netlink::Client;
use rvs_core::abi;

const RVSADM_VERSION: &str = env!("CARGO_PKG_VERSION");

fn version_string(code: u32) -> String {
    let (a, b, c) = abi::version_parts(code);
    format!("{a}.{b}.{c}")
}

fn print_version() -> ExitCode {
    println!(
        "rvsadm v{RVSADM_VERSION} (ipvsadm 1.31 compatible, IPVS v{})",
        version_string(abi::IPVS_VERSION_CODE)
    );
    match Client::connect().and_then(|mut c| c.info()) {
        Ok(info) => {
            println!(
                "rvs module v{}, IPVS protocol v{}, connection table {} buckets",
                info.module_version,
                version_string(info.version),
                info.conn_tab_size
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn list() -> ExitCode {
    let info = match Client::connect().and_then(|mut c| c.info()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "IP Virtual Server version {} (size={})",
        version_string(info.version),
        info.conn_tab_size
    );
    println!("Prot LocalAddress:Port Scheduler Flags");
    println!("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags: Vec<&str> = args.iter().map(String::as_str).collect();
    match flags.as_slice() {
        ["--version"] | ["-v"] => print_version(),
        ["-L"] | ["-l"] | ["-L", "-n"] | ["-Ln"] | ["-ln"] | ["-n", "-L"] | ["--list"] => list(),
        _ => {
            eprintln!("rvsadm: unsupported command line (this build supports --version and -L -n)");
            ExitCode::from(2)
        }
    }
}
