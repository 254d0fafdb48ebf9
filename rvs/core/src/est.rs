// SPDX-License-Identifier: GPL-2.0

//! The rate estimator of IPVS (`ip_vs_est.c`): every 2 seconds the
//! counters' growth becomes a per-second rate, smoothed with an
//! exponentially weighted moving average of weight 1/4. Rates of
//! connections and packets are kept scaled by 2^10, of bytes by 2^5.

/// Seconds between two estimator ticks.
pub const TICK_SECS: u32 = 2;

/// The five counters the estimator follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// Per-second rates, as listed by `--rate`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// The smoothed, scaled averages and the counters of the last tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Estimator {
    last: Counters,
    cps: i64,
    inpps: i64,
    outpps: i64,
    inbps: i64,
    outbps: i64,
}

fn step(avg: &mut i64, delta: u64, shift: u32) {
    let rate = (delta << shift) as i64;
    *avg = avg.wrapping_add(rate.wrapping_sub(*avg) >> 2);
}

impl Estimator {
    /// Starts from the current counters, with zero rates.
    pub fn new(now: Counters) -> Self {
        Self {
            last: now,
            ..Self::default()
        }
    }

    /// One tick, [`TICK_SECS`] after the previous one.
    pub fn tick(&mut self, now: Counters) {
        let d = |a: u64, b: u64| a.wrapping_sub(b);
        // Per 2 s, scaled by 2^10 per second: delta * 2^10 / 2.
        step(&mut self.cps, d(now.conns, self.last.conns), 9);
        step(&mut self.inpps, d(now.inpkts, self.last.inpkts), 9);
        step(&mut self.outpps, d(now.outpkts, self.last.outpkts), 9);
        // Bytes: scaled by 2^5 per second.
        step(&mut self.inbps, d(now.inbytes, self.last.inbytes), 4);
        step(&mut self.outbps, d(now.outbytes, self.last.outbytes), 4);
        self.last = now;
    }

    /// The rates, rounded as IPVS reads them.
    pub fn rates(&self) -> Rates {
        let r10 = |v: i64| (v.max(0) as u64 + 0x1ff) >> 10;
        let r5 = |v: i64| (v.max(0) as u64 + 0xf) >> 5;
        Rates {
            cps: r10(self.cps),
            inpps: r10(self.inpps),
            outpps: r10(self.outpps),
            inbps: r5(self.inbps),
            outbps: r5(self.outbps),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_converges() {
        let mut e = Estimator::new(Counters::default());
        let mut c = Counters::default();
        for _ in 0..100 {
            c.conns += 200; // 100 per second
            c.inpkts += 2000;
            c.inbytes += 2_000_000;
            e.tick(c);
        }
        let r = e.rates();
        assert_eq!(r.cps, 100);
        assert_eq!(r.inpps, 1000);
        assert_eq!(r.inbps, 1_000_000);
        assert_eq!(r.outpps, 0);
    }

    #[test]
    fn first_tick_is_a_quarter() {
        let mut e = Estimator::new(Counters::default());
        e.tick(Counters {
            conns: 800,
            ..Counters::default()
        });
        assert_eq!(e.rates().cps, 100); // 400/s smoothed by 1/4
    }

    #[test]
    fn decays_to_zero_when_idle() {
        let mut e = Estimator::new(Counters::default());
        let c = Counters {
            conns: 1000,
            ..Counters::default()
        };
        e.tick(c);
        for _ in 0..60 {
            e.tick(c);
        }
        assert_eq!(e.rates().cps, 0);
    }
}
