/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rvs: prototypes of the C glue in rvs_helpers.c. The Rust side declares
 * the same functions in `extern "C"` blocks next to their wrappers.
 */
#ifndef RVS_HELPERS_H
#define RVS_HELPERS_H

#include <linux/netfilter.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

unsigned int rvs_hook_in(struct sk_buff *skb, struct net *net, u8 pf,
			 u8 hooknum);
unsigned int rvs_hook_out(struct sk_buff *skb, struct net *net, u8 pf,
			  u8 hooknum);
unsigned int rvs_hook_forward_icmp(struct sk_buff *skb, struct net *net,
				   u8 pf, u8 hooknum);
int rvs_sockopt_set(struct net *net, int cmd, const sockptr_t *arg,
		    unsigned int len);
int rvs_sockopt_get(struct net *net, int cmd, void __user *user, int *len);
int rvs_sockopt_register(int set_min, int set_end, int get_min, int get_end);
void rvs_sockopt_unregister(void);
int rvs_copy_from_sockptr(void *dst, const sockptr_t *src, size_t len);
int rvs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
struct net *rvs_genl_info_net(const struct genl_info *info);
struct net *rvs_sock_net_of_skb(const struct sk_buff *skb);
void *rvs_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb, const struct genl_family *family, int flags, u8 cmd);
void *rvs_net_generic(const struct net *net, unsigned int id);
const struct nlattr *rvs_dump_attr(struct netlink_callback *cb, int type, int maxattr);
int rvs_ipv6_addr_is_local(struct net *net, const struct in6_addr *addr);
struct nlattr *rvs_nla_nest_start(struct sk_buff *skb, int type);
void rvs_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void rvs_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);
int rvs_nla_put_u64(struct sk_buff *skb, int type, u64 value, int padattr);
const struct genl_family *rvs_dump_family(struct netlink_callback *cb);
int rvs_hooks_register(struct net *net);
void rvs_hooks_unregister(struct net *net);
int rvs_skb_may_pull(struct sk_buff *skb, unsigned int len);
u8 rvs_skb_ip_summed(const struct sk_buff *skb);
void rvs_skb_set_ip_summed(struct sk_buff *skb, u8 ip_summed);
int rvs_skb_is_gso(const struct sk_buff *skb);
u32 rvs_skb_mark(const struct sk_buff *skb);
int rvs_skb_iif(const struct sk_buff *skb);
/* Field offsets and values for route.rs (its Consts, field for field):
 * see rvs_helpers.c. */
struct rvs_route_consts {
	size_t dst_dev, dst_ops, dst_obsolete, dst_error;
	size_t rtable_dst;	/* the dst_entry in its struct rtable */
	size_t rt_type;		/* struct rtable's, from its dst_entry */
	size_t dev_flags;	/* in struct net_device */
	unsigned long netdev_down, netdev_unregister;
};
extern const struct rvs_route_consts rvs_route_consts;
void rvs_dst_hold(struct dst_entry *dst);
u32 rvs_rt6_get_cookie(const struct dst_entry *dst);
struct net_device *rvs_ip6_dst_idev_dev(const struct dst_entry *dst);
struct net_device *rvs_netdev_notifier_info_to_dev(const struct netdev_notifier_info *info);
void rvs_skb_set_dst(struct sk_buff *skb, struct dst_entry *dst);
void rvs_skb_set_dst_noref(struct sk_buff *skb, struct dst_entry *dst);
void rvs_send(struct net *net, struct sk_buff *skb, u8 pf);
void rvs_skb_set_ipvs_property(struct sk_buff *skb);
int rvs_ct_available(void);
void rvs_ct_untrack(struct sk_buff *skb);
void rvs_ct_detach(struct sk_buff *skb);
int rvs_ct_get(const struct sk_buff *skb);
int rvs_ct_confirmed(const struct sk_buff *skb);
unsigned int rvs_ct_confirm(struct sk_buff *skb);
void rvs_ct_set_reply(struct sk_buff *skb, const u8 *addr, u16 port, int to_rs);
void rvs_ct_kill(struct net *net, u16 af, u8 protocol, const u8 *caddr,
		 u16 cport, const u8 *vaddr, u16 vport);
int rvs_skb_cow_head(struct sk_buff *skb, unsigned int headroom);
void rvs_skb_tunnel_inner(struct sk_buff *skb, u8 ipproto);
int rvs_skb_csum_partial(const struct sk_buff *skb, int *start, u16 *offset);
void rvs_skb_csum_to_receiver(struct sk_buff *skb);
void rvs_skb_reset_transport_header(struct sk_buff *skb);
u16 rvs_udp_flow_src_port(struct net *net, struct sk_buff *skb);
void rvs_gre_push(struct sk_buff *skb, int csum, __be16 proto);
void rvs_skb_outer_headers(struct sk_buff *skb, int v6);
void rvs_ipip_finish(struct net *net, struct sk_buff *skb);
extern const u32 rvs_ip_defrag_vs_in, rvs_ip_defrag_vs_fwd, rvs_ip_defrag_vs_out;
int rvs_ip_defrag(struct net *net, struct sk_buff *skb, u32 user);
unsigned int rvs_skb_frag_max_size(const struct sk_buff *skb, int v6);
int rvs_defrag6_enable(struct net *net);
void rvs_defrag6_disable(struct net *net);
void rvs_icmp_send(struct sk_buff *skb, u8 type, u8 code, __be32 info);
void rvs_icmpv6_send(struct sk_buff *skb, u8 type, u8 code, u32 info);
void rvs_ip_inc_stats(struct net *net, int field);
void rvs_ip6_inc_stats(struct net *net, struct sk_buff *skb, int field);
void *rvs_percpu_alloc(size_t size, size_t align);
void rvs_percpu_free(void *p);
void rvs_stats_count3(void *a, void *b, void *c, unsigned int field, u64 bytes);
void *rvs_percpu_ptr(void *p, int cpu);
int rvs_next_cpu(int cpu);
void rvs_dwork_init(struct delayed_work *dw, work_func_t fn);
int rvs_ip_route_me_harder(struct net *net, struct sk_buff *skb);
int rvs_ip6_route_me_harder(struct net *net, struct sk_buff *skb);

struct net_device;
struct sock;
int rvs_netdev_ifindex(const struct net_device *dev);
unsigned int rvs_netdev_mtu(const struct net_device *dev);
void rvs_lock_sock(struct sock *sk);
void rvs_sock_set_size(struct sock *sk, int send, int val);
void rvs_sock_set_rcvtimeo(struct sock *sk, long timeo);
void rvs_inet_sock_set_mcast(struct sock *sk, int ifindex, u8 ttl, u8 pmtudisc, bool loop);
void rvs_inet6_sock_set_mcast(struct sock *sk, int ifindex, u8 hops, u8 pmtudisc, bool loop);
#endif
