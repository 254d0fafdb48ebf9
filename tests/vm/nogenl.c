/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LD_PRELOAD shim for test 405: libnl's generic netlink family lookup
 * fails, so ipvsadm's libipvs falls back to IPVS's socket options, as it
 * does on a kernel without the IPVS netlink family.
 */
struct nl_sock;

int genl_ctrl_resolve(struct nl_sock *sk, const char *name)
{
	(void)sk;
	(void)name;
	return -12; /* -NLE_OBJ_NOTFOUND */
}
