// SPDX-License-Identifier: GPL-2.0
/*
 * rvs: C glue for kernel APIs that exist only as static inline functions or
 * macros, which Rust cannot call directly. No logic lives here.
 */

#include <net/genetlink.h>
#include <net/net_namespace.h>

int rvs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

struct net *rvs_genl_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

struct net *rvs_sock_net_of_skb(const struct sk_buff *skb)
{
	return sock_net(skb->sk);
}

void *rvs_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb,
			   const struct genl_family *family, int flags, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   family, flags, cmd);
}
