// SPDX-License-Identifier: GPL-2.0
/*
 * rvs: C glue for what Rust cannot call or name: kernel APIs that exist
 * only as static inline functions or macros, bitfields (ipvs_property),
 * and structures the kernel's Rust bindings leave out (nf_hook_ops, so
 * the hook table is here; its entries are Rust, in nf.rs), and the
 * offsets of the route fields route.rs reads. The send sequence is here
 * too: it is only a row of static inlines (skb_orphan, skb_forward_csum,
 * NF_HOOK); every decision is Rust's.
 */

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/percpu.h>
#include <linux/icmpv6.h>
#include <linux/workqueue.h>
#include <net/addrconf.h>
#include <net/dst.h>
#include <net/genetlink.h>
#include <net/gre.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ip_tunnels.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <net/netns/generic.h>
#include <net/route.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <net/udp.h>
#include <net/inet_sock.h>

#include "rvs_helpers.h"

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
	const struct genl_family *family = info->info.family;
	struct nlattr *tb[16];

	if (type < 0 || type > maxattr || maxattr >= ARRAY_SIZE(tb))
		return NULL;
	if (info->info.attrs)
		return info->info.attrs[type];
	/* Lenient operations (the IPVS family's, GENL_DONT_VALIDATE_DUMP) get
	 * no parsed attributes: parse them here, leniently, as IPVS does. */
	if (nlmsg_parse_deprecated(cb->nlh, GENL_HDRLEN + family->hdrsize, tb,
				   maxattr, family->policy, NULL))
		return NULL;
	return tb[type];
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


const struct genl_family *rvs_dump_family(struct netlink_callback *cb)
{
	return genl_info_dump(cb)->family;
}

/* ---- netfilter hooks: the table is IPVS's, the logic is Rust's ---- */

/* rvs_hook_in/_out/_forward_icmp (Rust, core_hooks.rs) give the verdict
 * for one packet: scheduling and forwarding, NAT replies, ICMP errors in
 * FORWARD. Packets rvs (or IPVS) already sent on carry ipvs_property, a
 * bitfield Rust cannot read; they pass untouched, as IPVS's hooks let
 * them first thing. */

static unsigned int rvs_in_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	if (skb->ipvs_property)
		return NF_ACCEPT;
	return rvs_hook_in(skb, state->net, state->pf, state->hook);
}

static unsigned int rvs_out_hook(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	if (skb->ipvs_property)
		return NF_ACCEPT;
	return rvs_hook_out(skb, state->net, state->pf, state->hook);
}

static unsigned int rvs_icmp_hook(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	if (skb->ipvs_property)
		return NF_ACCEPT;
	return rvs_hook_forward_icmp(skb, state->net, state->pf, state->hook);
}

#define RVS_HOOKS(PF, PRI_NAT_SRC, PRI_NAT_DST)				\
	{ .hook = rvs_out_hook, .pf = PF, .hooknum = NF_INET_LOCAL_IN,	\
	  .priority = PRI_NAT_SRC - 2 },					\
	{ .hook = rvs_in_hook, .pf = PF, .hooknum = NF_INET_LOCAL_IN,	\
	  .priority = PRI_NAT_SRC - 1 },					\
	{ .hook = rvs_out_hook, .pf = PF, .hooknum = NF_INET_LOCAL_OUT,	\
	  .priority = PRI_NAT_DST + 1 },					\
	{ .hook = rvs_in_hook, .pf = PF, .hooknum = NF_INET_LOCAL_OUT,	\
	  .priority = PRI_NAT_DST + 2 },					\
	{ .hook = rvs_icmp_hook, .pf = PF, .hooknum = NF_INET_FORWARD,	\
	  .priority = 99 },						\
	{ .hook = rvs_out_hook, .pf = PF, .hooknum = NF_INET_FORWARD,	\
	  .priority = 100 }

/* The priorities of IPVS (ip_vs_core.c): after filtering and conntrack,
 * around NAT, so that filter rules apply to balanced traffic. */
static const struct nf_hook_ops rvs_hook_ops[] = {
	RVS_HOOKS(NFPROTO_IPV4, NF_IP_PRI_NAT_SRC, NF_IP_PRI_NAT_DST),
	RVS_HOOKS(NFPROTO_IPV6, NF_IP6_PRI_NAT_SRC, NF_IP6_PRI_NAT_DST),
};

int rvs_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, rvs_hook_ops, ARRAY_SIZE(rvs_hook_ops));
}

void rvs_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, rvs_hook_ops, ARRAY_SIZE(rvs_hook_ops));
}

/* ---- IPVS's socket options (ipvs_abi=1): the table is IPVS's, the logic
 * is Rust's (sockopt.rs), as for the hooks; the command ranges come from
 * Rust, where the ABI's numbers are defined ---- */

static int rvs_sockopt_set_stub(struct sock *sk, int cmd, sockptr_t arg,
				unsigned int len)
{
	return rvs_sockopt_set(sock_net(sk), cmd, &arg, len);
}

static int rvs_sockopt_get_stub(struct sock *sk, int cmd, void __user *user,
				int *len)
{
	return rvs_sockopt_get(sock_net(sk), cmd, user, len);
}

static struct nf_sockopt_ops rvs_sockopts = {
	.pf = PF_INET,
	.set = rvs_sockopt_set_stub,
	.get = rvs_sockopt_get_stub,
	.owner = THIS_MODULE,
};

int rvs_sockopt_register(int set_min, int set_end, int get_min, int get_end)
{
	rvs_sockopts.set_optmin = set_min;
	rvs_sockopts.set_optmax = set_end;
	rvs_sockopts.get_optmin = get_min;
	rvs_sockopts.get_optmax = get_end;
	return nf_register_sockopt(&rvs_sockopts);
}

void rvs_sockopt_unregister(void)
{
	nf_unregister_sockopt(&rvs_sockopts);
}

int rvs_copy_from_sockptr(void *dst, const sockptr_t *src, size_t len)
{
	return copy_from_sockptr(dst, *src, len) ? -EFAULT : 0;
}

/* ---- sk_buff ---- */

int rvs_skb_may_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, len);
}

u8 rvs_skb_ip_summed(const struct sk_buff *skb)
{
	return skb->ip_summed;
}

void rvs_skb_set_ip_summed(struct sk_buff *skb, u8 ip_summed)
{
	skb->ip_summed = ip_summed;
}

int rvs_skb_is_gso(const struct sk_buff *skb)
{
	return skb_is_gso(skb);
}

u32 rvs_skb_mark(const struct sk_buff *skb)
{
	return skb->mark;
}

int rvs_skb_iif(const struct sk_buff *skb)
{
	return skb->skb_iif;
}

/* ---- routing and output ---- */

/* What route.rs reads of kernel types the Rust bindings leave out: field
 * offsets (offsetof) in a route's struct dst_entry, in the struct rtable
 * of an IPv4 one and in struct net_device, and two values of enum
 * netdev_cmd. Offsets rather than accessor calls keep a cached route's
 * per-packet check free of calls into C. The asserts pin the types route.rs
 * reads the fields as. */
const struct rvs_route_consts rvs_route_consts = {
	.dst_dev = offsetof(struct dst_entry, dev),
	.dst_ops = offsetof(struct dst_entry, ops),
	.dst_obsolete = offsetof(struct dst_entry, obsolete),
	.dst_error = offsetof(struct dst_entry, error),
	.rtable_dst = offsetof(struct rtable, dst),
	.rt_type = offsetof(struct rtable, rt_type) - offsetof(struct rtable, dst),
	.dev_flags = offsetof(struct net_device, flags),
	.netdev_down = NETDEV_DOWN,
	.netdev_unregister = NETDEV_UNREGISTER,
};
static_assert(sizeof_field(struct dst_entry, obsolete) == sizeof(s16));
static_assert(sizeof_field(struct dst_entry, error) == sizeof(s16));
static_assert(sizeof_field(struct rtable, rt_type) == sizeof(u16));
static_assert(sizeof_field(struct net_device, flags) == sizeof(u32));

/* dst_hold (static inline). */
void rvs_dst_hold(struct dst_entry *dst)
{
	dst_hold(dst);
}

/* rt6_get_cookie (static inline) of an IPv6 route. */
u32 rvs_rt6_get_cookie(const struct dst_entry *dst)
{
	return rt6_get_cookie(dst_rt6_info(dst));
}

/* ip6_dst_idev (static inline) and the device of that inet6_dev, a
 * structure the bindings leave out; NULL if the route has none. */
struct net_device *rvs_ip6_dst_idev_dev(const struct dst_entry *dst)
{
	struct inet6_dev *idev = ip6_dst_idev(dst);

	return idev ? READ_ONCE(idev->dev) : NULL;
}

/* netdev_notifier_info_to_dev (static inline). */
struct net_device *
rvs_netdev_notifier_info_to_dev(const struct netdev_notifier_info *info)
{
	return netdev_notifier_info_to_dev(info);
}

void rvs_skb_set_dst(struct sk_buff *skb, struct dst_entry *dst)
{
	skb_dst_drop(skb);
	skb_dst_set(skb, dst);
}

/* A route without a reference: the caller is in an RCU read-side section
 * that the packet is sent within (or the stack takes a reference). */
void rvs_skb_set_dst_noref(struct sk_buff *skb, struct dst_entry *dst)
{
	skb_dst_drop(skb);
	skb_dst_set_noref(skb, dst);
}

void rvs_skb_set_ipvs_property(struct sk_buff *skb)
{
	skb->ipvs_property = 1;
}

/* ---- conntrack: the entry fields and calls rvs's NAT keeps in step ---- */

int rvs_ct_available(void)
{
	return IS_ENABLED(CONFIG_NF_CONNTRACK);
}

/* The packet will not be tracked: its entry, never confirmed, goes. */
void rvs_ct_untrack(struct sk_buff *skb)
{
	nf_reset_ct(skb);
	nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
}

/* The packet leaves its entry behind (a tunnel's outer packet is tracked
 * on its own). */
void rvs_ct_detach(struct sk_buff *skb)
{
	nf_reset_ct(skb);
}

/* The packet has a conntrack entry. */
int rvs_ct_get(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	enum ip_conntrack_info ctinfo;

	return nf_ct_get(skb, &ctinfo) != NULL;
#else
	return 0;
#endif
}

/* The packet's entry is already in the table: the packet belongs to an
 * earlier flow on the same addresses and ports. */
int rvs_ct_confirmed(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	return ct && nf_ct_is_confirmed(ct);
#else
	return 0;
#endif
}

/* Puts the packet's entry into the table now; the verdict. */
unsigned int rvs_ct_confirm(struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	return nf_conntrack_confirm(skb);
#else
	return NF_ACCEPT;
#endif
}

/* A new entry (unconfirmed, original direction) learns the reply it will
 * see: coming from addr:port (to_rs: NAT sent the packet there), or
 * going to it (the real server's packet came first). Ports only for
 * protocols that have them. */
void rvs_ct_set_reply(struct sk_buff *skb, const u8 *addr, u16 port, int to_rs)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	struct nf_conntrack_tuple reply;
	size_t len;
	int ports;

	if (!ct || nf_ct_is_confirmed(ct) || nf_ct_is_dying(ct) ||
	    CTINFO2DIR(ctinfo) != IP_CT_DIR_ORIGINAL)
		return;
	reply = ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	ports = reply.dst.protonum != IPPROTO_ICMP &&
		reply.dst.protonum != IPPROTO_ICMPV6;
	len = nf_ct_l3num(ct) == AF_INET6 ? 16 : 4;
	if (to_rs) {
		memset(&reply.src.u3, 0, sizeof(reply.src.u3));
		memcpy(&reply.src.u3, addr, len);
		if (ports)
			reply.src.u.all = htons(port);
	} else {
		memset(&reply.dst.u3, 0, sizeof(reply.dst.u3));
		memcpy(&reply.dst.u3, addr, len);
		if (ports)
			reply.dst.u.all = htons(port);
	}
	nf_conntrack_alter_reply(ct, &reply);
#endif
}

/* Drops the confirmed entry of client caddr:cport to vaddr:vport, if one
 * is there. Addresses are 16 bytes, IPv4 in the first four (the rest
 * zero, as conntrack's tuples keep them). */
void rvs_ct_kill(struct net *net, u16 af, u8 protocol, const u8 *caddr,
		 u16 cport, const u8 *vaddr, u16 vport)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	struct nf_conntrack_tuple tuple = {
		.dst = { .protonum = protocol, .dir = IP_CT_DIR_ORIGINAL },
	};
	struct nf_conntrack_tuple_hash *h;
	size_t len = af == AF_INET6 ? 16 : 4;

	tuple.src.l3num = af;
	memcpy(&tuple.src.u3, caddr, len);
	tuple.src.u.all = htons(cport);
	memcpy(&tuple.dst.u3, vaddr, len);
	tuple.dst.u.all = htons(vport);
	h = nf_conntrack_find_get(net, &nf_ct_zone_dflt, &tuple);
	if (h) {
		struct nf_conn *ct = nf_ct_tuplehash_to_ctrack(h);

		nf_ct_kill(ct);
		nf_ct_put(ct);
	}
#endif
}

/* Sends a packet rvs has rewritten (and routed), its conntrack entry
 * settled, on its way: through LOCAL_OUT and POSTROUTING (so filters and
 * SNAT still see it). */
void rvs_send(struct net *net, struct sk_buff *skb, u8 pf)
{
	skb->ipvs_property = 1;
	/* A packet that came in through LOCAL_IN (it has a device) may
	 * carry the socket early demux found; it must not leave with it. */
	if (skb->dev)
		skb_orphan(skb);
	skb_forward_csum(skb);
	if (skb->dev)
		skb_clear_tstamp(skb);
	NF_HOOK(pf, NF_INET_LOCAL_OUT, net, NULL, skb, NULL,
		skb_dst(skb)->dev, dst_output);
}

int rvs_skb_cow_head(struct sk_buff *skb, unsigned int headroom)
{
	return skb_cow_head(skb, headroom);
}

/* Before a tunnel's headers are pushed: the packet's own header becomes
 * the transport header, and segmentation offload learns the inner
 * protocol and where the inner headers are. */
void rvs_skb_tunnel_inner(struct sk_buff *skb, u8 ipproto)
{
	skb->transport_header = skb->network_header;
	skb_set_inner_ipproto(skb, ipproto);
	skb_set_inner_mac_header(skb, skb_inner_network_offset(skb));
}

/* CHECKSUM_PARTIAL: where the checksummed part starts, from data (it may
 * lie before it), and the checksum field's offset from there. */
int rvs_skb_csum_partial(const struct sk_buff *skb, int *start, u16 *offset)
{
	if (skb->ip_summed != CHECKSUM_PARTIAL)
		return 0;
	*start = skb_checksum_start_offset(skb);
	*offset = skb->csum_offset;
	return 1;
}

/* The transport checksum is left to the tunnel's receiver (GUE's remote
 * checksum offload): nothing computes it on the way out. */
void rvs_skb_csum_to_receiver(struct sk_buff *skb)
{
	if (!skb_is_gso(skb)) {
		skb->ip_summed = CHECKSUM_NONE;
		skb->encapsulation = 0;
	}
}

void rvs_skb_reset_transport_header(struct sk_buff *skb)
{
	skb_reset_transport_header(skb);
}

/* A tunnel's UDP source port from the flow's hash, host order. */
u16 rvs_udp_flow_src_port(struct net *net, struct sk_buff *skb)
{
	return ntohs(udp_flow_src_port(net, skb, 0, 0, false));
}

/* Pushes a GRE header (with the checksum option if csum) naming proto. */
void rvs_gre_push(struct sk_buff *skb, int csum, __be16 proto)
{
	IP_TUNNEL_DECLARE_FLAGS(flags) = { };

	if (csum)
		__set_bit(IP_TUNNEL_CSUM_BIT, flags);
	gre_build_header(skb, gre_calc_hlen(flags), flags, proto, 0, 0);
}

/* After the outer header was pushed: it is the network header, the
 * packet is of its family, the family's IP control block starts clean
 * (IPCB's options, or all of IP6CB), and the path MTU was checked
 * already, so fragmenting sends no ICMP. */
void rvs_skb_outer_headers(struct sk_buff *skb, int v6)
{
	skb_reset_network_header(skb);
	if (v6) {
		skb->protocol = htons(ETH_P_IPV6);
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
	} else {
		skb->protocol = htons(ETH_P_IP);
		memset(&(IPCB(skb)->opt), 0, sizeof(IPCB(skb)->opt));
	}
	skb->ignore_df = 1;
}

/* After rvs wrote the outer header: an IP id and the header checksum. */
void rvs_ipip_finish(struct net *net, struct sk_buff *skb)
{
	ip_select_ident(net, skb, NULL);
	ip_send_check(ip_hdr(skb));
}

/* enum ip_defrag_users is not in the bindings: the queues IPVS gathers
 * fragments in, one per hook, for Rust's skb::DefragUser. */
const u32 rvs_ip_defrag_vs_in = IP_DEFRAG_VS_IN;
const u32 rvs_ip_defrag_vs_fwd = IP_DEFRAG_VS_FWD;
const u32 rvs_ip_defrag_vs_out = IP_DEFRAG_VS_OUT;

/* local_bh_disable() and ip_hdr() are static inlines: ip_defrag() runs with
 * bottom halves off, as at IPVS's hooks, and a whole packet gets its header
 * checksum again. 0: `skb` is now whole; otherwise it was taken. */
int rvs_ip_defrag(struct net *net, struct sk_buff *skb, u32 user)
{
	int err;

	local_bh_disable();
	err = ip_defrag(net, skb, user);
	local_bh_enable();
	if (!err)
		ip_send_check(ip_hdr(skb));
	return err;
}

/* The largest fragment of a reassembled packet (0 if it never was one):
 * what must fit the path MTU, rather than the whole packet. */
unsigned int rvs_skb_frag_max_size(const struct sk_buff *skb, int v6)
{
	return v6 ? IP6CB(skb)->frag_max_size : IPCB(skb)->frag_max_size;
}

/* IPv6 has no reassembly before LOCAL_IN: nf_defrag_ipv6 does it at
 * PRE_ROUTING once a namespace has IPv6 services, as for IPVS. */
int rvs_defrag6_enable(struct net *net)
{
#if IS_ENABLED(CONFIG_NF_DEFRAG_IPV6)
	return nf_defrag_ipv6_enable(net);
#else
	return -EOPNOTSUPP;
#endif
}

void rvs_defrag6_disable(struct net *net)
{
#if IS_ENABLED(CONFIG_NF_DEFRAG_IPV6)
	nf_defrag_ipv6_disable(net);
#endif
}

/* icmp_send() is a static inline (it passes IPCB(skb)'s IP options). */
void rvs_icmp_send(struct sk_buff *skb, u8 type, u8 code, __be32 info)
{
	icmp_send(skb, type, code, info);
}

/* icmpv6_send() is a static inline (it passes IP6CB(skb)); a no-op without
 * CONFIG_IPV6. */
void rvs_icmpv6_send(struct sk_buff *skb, u8 type, u8 code, u32 info)
{
	icmpv6_send(skb, type, code, info);
}

/* IP_INC_STATS() is a macro. */
void rvs_ip_inc_stats(struct net *net, int field)
{
	IP_INC_STATS(net, field);
}

/* IP6_INC_STATS() is a macro, and __in6_dev_get_safely() (the counters of
 * the interface the packet is on) a static inline, both only with
 * CONFIG_IPV6. */
void rvs_ip6_inc_stats(struct net *net, struct sk_buff *skb, int field)
{
#if IS_ENABLED(CONFIG_IPV6)
	IP6_INC_STATS(net, __in6_dev_get_safely(skb->dev), field);
#endif
}

/* ---- per-CPU counters ---- */

void *rvs_percpu_alloc(size_t size, size_t align)
{
	return (void __force *)__alloc_percpu_gfp(size, align, GFP_KERNEL);
}

void rvs_percpu_free(void *p)
{
	free_percpu((void __percpu __force *)p);
}

/* Counts one event on this CPU in three sets of five u64 counters (conns,
 * inpkts, outpkts, inbytes, outbytes): the real server's, the service's
 * and the namespace's, in one call. @field is conns or a packets counter;
 * a packet's bytes go to the bytes counter of its direction. */
void rvs_stats_count3(void *a, void *b, void *c, unsigned int field, u64 bytes)
{
	u64 __percpu *s[3] = { (u64 __percpu __force *)a,
			       (u64 __percpu __force *)b,
			       (u64 __percpu __force *)c };
	int i;

	for (i = 0; i < 3; i++) {
		this_cpu_inc(s[i][field]);
		if (field)
			this_cpu_add(s[i][field + 2], bytes);
	}
}

void *rvs_percpu_ptr(void *p, int cpu)
{
	return per_cpu_ptr((void __percpu __force *)p, cpu);
}

/* The next possible CPU after @cpu (-1 to start), or -1 at the end. */
int rvs_next_cpu(int cpu)
{
	cpu = cpumask_next(cpu, cpu_possible_mask);
	return cpu < nr_cpu_ids ? cpu : -1;
}

/* ---- time and deferred work ---- */

void rvs_dwork_init(struct delayed_work *dw, work_func_t fn)
{
	INIT_DELAYED_WORK(dw, fn);
}

/* ---- replies after SNAT: IPVS's snat_reroute ---- */

/* skb_rtable() is a static inline and struct rtable is not in the bindings:
 * routes the packet again by its new source, unless its route is to this
 * host. 0 or a negative errno. */
int rvs_ip_route_me_harder(struct net *net, struct sk_buff *skb)
{
	struct rtable *rt = skb_rtable(skb);

	if (rt && !(rt->rt_flags & RTCF_LOCAL))
		return ip_route_me_harder(net, skb->sk, skb, RTN_LOCAL);
	return 0;
}

/* skb_dst() and nf_ip6_route_me_harder() are static inlines, struct
 * dst_entry and struct net_device are not in the bindings: the same for
 * IPv6, unless the route goes out through loopback. */
int rvs_ip6_route_me_harder(struct net *net, struct sk_buff *skb)
{
	struct dst_entry *dst = skb_dst(skb);

	if (dst && dst->dev && !(dst->dev->flags & IFF_LOOPBACK))
		return nf_ip6_route_me_harder(net, skb->sk, skb);
	return 0;
}

/* ---- connection sync: what its sockets need of opaque structures ----
 * sync_io.rs creates, binds, connects and joins the sockets and runs the
 * threads; these set what the bindings leave out. */

/* struct net_device is not in the bindings. */
int rvs_netdev_ifindex(const struct net_device *dev)
{
	return dev->ifindex;
}

/* As above; READ_ONCE() as the MTU may change at any time. */
unsigned int rvs_netdev_mtu(const struct net_device *dev)
{
	return READ_ONCE(dev->mtu);
}

/* lock_sock() is a static inline; release_sock() is exported. */
void rvs_lock_sock(struct sock *sk)
{
	lock_sock(sk);
}

/* struct sock is not in the bindings, SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF
 * are macros: SO_SNDBUF (@send) or SO_RCVBUF as IPVS's set_sock_size()
 * sets them, under lock_sock(). */
void rvs_sock_set_size(struct sock *sk, int send, int val)
{
	lock_sock(sk);
	if (send) {
		val = clamp_t(int, val, (SOCK_MIN_SNDBUF + 1) / 2,
			      READ_ONCE(sysctl_wmem_max));
		sk->sk_sndbuf = val * 2;
		sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	} else {
		val = clamp_t(int, val, (SOCK_MIN_RCVBUF + 1) / 2,
			      READ_ONCE(sysctl_rmem_max));
		sk->sk_rcvbuf = val * 2;
		sk->sk_userlocks |= SOCK_RCVBUF_LOCK;
	}
	release_sock(sk);
}

/* struct sock is not in the bindings: SO_RCVTIMEO, in jiffies. */
void rvs_sock_set_rcvtimeo(struct sock *sk, long timeo)
{
	sk->sk_rcvtimeo = timeo;
}

/* inet_sk()'s struct inet_sock is not in the bindings and inet_assign_bit()
 * is a macro: IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MTU_DISCOVER and
 * IP_MULTICAST_LOOP. The caller holds the socket's lock. */
void rvs_inet_sock_set_mcast(struct sock *sk, int ifindex, u8 ttl,
			     u8 pmtudisc, bool loop)
{
	struct inet_sock *inet = inet_sk(sk);

	inet->mc_index = ifindex;
	WRITE_ONCE(inet->mc_ttl, ttl);
	WRITE_ONCE(inet->pmtudisc, pmtudisc);
	inet_assign_bit(MC_LOOP, sk, loop);
}

/* inet6_sk()'s struct ipv6_pinfo is not in the bindings, exists only with
 * CONFIG_IPV6, and inet6_assign_bit() is a macro: the IPV6_ counterparts
 * of the above. The caller holds the socket's lock. */
void rvs_inet6_sock_set_mcast(struct sock *sk, int ifindex, u8 hops,
			      u8 pmtudisc, bool loop)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct ipv6_pinfo *np = inet6_sk(sk);

	WRITE_ONCE(np->mcast_oif, ifindex);
	WRITE_ONCE(np->mcast_hops, hops);
	WRITE_ONCE(np->pmtudisc, pmtudisc);
	inet6_assign_bit(MC6_LOOP, sk, loop);
#endif
}
