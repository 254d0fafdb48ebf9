// SPDX-License-Identifier: GPL-2.0
/*
 * rvs: C glue for kernel APIs that exist only as static inline functions or
 * macros, which Rust cannot call directly. No logic lives here.
 */

#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/route.h>
#include <net/addrconf.h>

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

void *rvs_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

const struct nlattr *rvs_dump_attr(struct netlink_callback *cb, int type,
				   int maxattr)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);

	if (type < 0 || type > maxattr || !info->info.attrs)
		return NULL;
	return info->info.attrs[type];
}

/* Route type of an IPv4 address in @net: RTN_LOCAL, RTN_UNICAST, ... */
unsigned int rvs_inet_addr_type(struct net *net, __be32 addr)
{
	return inet_addr_type(net, addr);
}

/* Whether @addr is assigned to an interface in @net. */
int rvs_ipv6_addr_is_local(struct net *net, const struct in6_addr *addr)
{
#if IS_ENABLED(CONFIG_IPV6)
	return ipv6_chk_addr(net, addr, NULL, 0);
#else
	return 0;
#endif
}

struct nlattr *rvs_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start(skb, type);
}

void rvs_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

void rvs_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}

int rvs_nla_put_u64(struct sk_buff *skb, int type, u64 value, int padattr)
{
	return nla_put_u64_64bit(skb, type, value, padattr);
}
