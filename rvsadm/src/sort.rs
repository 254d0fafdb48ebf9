//! The order ipvsadm lists services and real servers in: libipvs's
//! comparators (wrapping, not transitive) under glibc's `qsort`.

use std::net::IpAddr;

use crate::model::{AddressFamily, Dest, Service};

/// Address words as libipvs compares them: IPv4 as one host-order word,
/// IPv6 as four.
fn addr_words(addr: &IpAddr) -> ([u32; 4], usize) {
    match addr {
        IpAddr::V4(a) => ([u32::from(*a), 0, 0, 0], 1),
        IpAddr::V6(a) => {
            let o = a.octets();
            let mut w = [0u32; 4];
            for (i, wi) in w.iter_mut().enumerate() {
                *wi = u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]);
            }
            (w, 4)
        }
    }
}

/// libipvs compares addresses by subtracting unsigned words and using the
/// result as a signed int, so addresses more than 2^31 apart compare
/// "backwards".  Reproduced on purpose.
fn cmp_addr(af: AddressFamily, a: &IpAddr, b: &IpAddr) -> i32 {
    let (wa, _) = addr_words(a);
    let (wb, _) = addr_words(b);
    if af == AddressFamily::Inet6 {
        let mut r = 0i32;
        let mut i = 0;
        while r == 0 && i < 4 {
            r = wa[i].wrapping_sub(wb[i]) as i32;
            i += 1;
        }
        r
    } else {
        wa[0].wrapping_sub(wb[0]) as i32
    }
}

/// `ipvs_cmp_services`.
pub fn cmp_services(s1: &Service, s2: &Service) -> i32 {
    let r = s1.fwmark.wrapping_sub(s2.fwmark) as i32;
    if r != 0 {
        return r;
    }
    let r = s1.af.raw() as i32 - s2.af.raw() as i32;
    if r != 0 {
        return r;
    }
    let r = s1.protocol.raw() as i32 - s2.protocol.raw() as i32;
    if r != 0 {
        return r;
    }
    let r = cmp_addr(s1.af, &s1.addr, &s2.addr);
    if r != 0 {
        return r;
    }
    s1.port as i32 - s2.port as i32
}

/// `ipvs_cmp_dests`.
pub fn cmp_dests(d1: &Dest, d2: &Dest) -> i32 {
    let r = cmp_addr(d1.af, &d1.addr, &d2.addr);
    if r != 0 {
        return r;
    }
    d1.port as i32 - d2.port as i32
}

/// glibc's `qsort` (a top-down stable merge sort; the element taken from the
/// left run when `cmp(left, right) <= 0`).  Because the libipvs comparators
/// are not transitive, the exact algorithm matters for the output order.
pub fn glibc_qsort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    {
        let (b1, b2) = v.split_at_mut(n1);
        glibc_qsort(b1, cmp);
        glibc_qsort(b2, cmp);
    }
    let mut tmp: Vec<T> = Vec::with_capacity(n);
    let (mut i, mut j) = (0usize, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            tmp.push(v[i].clone());
            i += 1;
        } else {
            tmp.push(v[j].clone());
            j += 1;
        }
    }
    while i < n1 {
        tmp.push(v[i].clone());
        i += 1;
    }
    // Remaining right-run elements are already in place.
    let k = tmp.len();
    v[..k].clone_from_slice(&tmp);
}

/// Sort destinations the way `ipvsadm -L` does (unless `--nosort`).
pub fn sort_dests(v: &mut [Dest]) {
    glibc_qsort(v, &|a, b| cmp_dests(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn merge_sort_matches_glibc_on_cyclic_comparator() {
        // Three IPv4 addresses forming a cycle under libipvs' comparator.
        let mk = |a: [u8; 4]| Dest {
            addr: IpAddr::V4(Ipv4Addr::from(a)),
            ..Dest::default()
        };
        let a = mk([0, 0, 0, 1]);
        let b = mk([96, 0, 0, 1]);
        let c = mk([192, 0, 0, 1]);
        assert!(cmp_dests(&a, &b) < 0);
        assert!(cmp_dests(&b, &c) < 0);
        assert!(cmp_dests(&c, &a) < 0);
        let mut v = vec![c.clone(), b.clone(), a.clone()];
        sort_dests(&mut v);
        // msort: [c] + merge([b],[a]) = [a? ...] computed by hand:
        // right half [b, a] -> cmp(b,a) > 0 -> [a, b]; merge [c] with [a, b]:
        // cmp(c,a) < 0 -> c first, then a, b.
        assert_eq!(v, vec![c, a, b]);
    }
}
