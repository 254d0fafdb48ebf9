// SPDX-License-Identifier: GPL-2.0

//! rvs logic that needs no kernel.
//!
//! This crate is `core`-only. It is compiled twice: as a module of `rvs.ko`
//! (the kernel build includes this file with `#[path]` and passes
//! `--cfg MODULE`), and as a host library for rvsadm and for unit and
//! property tests. Nothing here may allocate, panic on input, or use `std`.

#![cfg_attr(not(MODULE), no_std)]

#[cfg(all(test, not(MODULE)))]
extern crate std;

pub mod abi;
pub mod connhash;
pub mod csum;
pub mod ctl;
pub mod defense;
pub mod est;
pub mod nla;
pub mod packet;
pub mod proto;
pub mod sched;
pub mod sctp;
pub mod sockopt;
pub mod sync;
pub mod tunnel;
