// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `rvs` generic netlink family and its handlers.

use kernel::prelude::*;

use crate::genl::{DoIt, Family, Op, Permission, Policy, PolicyEntry as P, Request};
use crate::rvs_core::abi::{self, cmd, cmd_attr, info_attr};

/// Top-level attributes: nested service/destination/daemon sets are added
/// with the control-plane handlers; timeouts are plain u32 seconds.
static CMD_POLICY: Policy<{ cmd_attr::MAX as usize + 1 }> = Policy([
    P::unspec(),
    P::reject(), // SERVICE
    P::reject(), // DEST
    P::reject(), // DAEMON
    P::u32(),    // TIMEOUT_TCP
    P::u32(),    // TIMEOUT_TCP_FIN
    P::u32(),    // TIMEOUT_UDP
]);

static OPS: [Op; 1] = [Op::doit::<GetInfo>(cmd::GET_INFO, Permission::NetAdmin)];

/// The `rvs` family, version [`abi::FAMILY_VERSION`].
pub(crate) static FAMILY: Family = Family::const_new(
    kernel::module::this_module::<crate::LocalModule>(),
    abi::FAMILY_NAME_NUL,
    abi::FAMILY_VERSION,
    &CMD_POLICY,
    &OPS,
);

/// GET_INFO: the IPVS protocol version, the connection table size and the
/// module's own version.
struct GetInfo;

impl DoIt for GetInfo {
    fn doit(req: &mut Request<'_>) -> Result {
        req.reply(cmd::SET_INFO, |msg| {
            msg.put_u32(info_attr::VERSION, abi::IPVS_VERSION_CODE)?;
            msg.put_u32(info_attr::CONN_TAB_SIZE, crate::conn_tab_size())?;
            msg.put_str(info_attr::MODULE_VERSION, crate::MODULE_VERSION)
        })
    }
}
