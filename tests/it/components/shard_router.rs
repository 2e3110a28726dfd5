//! Shard router: hot shards and resharding.

use super::*;

#[test]
fn a_celebrity_key_makes_its_shard_hot_and_resharding_moves_keys() {
    let text = include_str!("../../../topologies/hot-shard.ron");
    let mut s = sim(text, 20);
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let sh = r.nodes["shards"].shards.as_ref().unwrap();
    let total: u64 = sh.sent.iter().sum();
    let mut shares: Vec<f64> = sh.sent.iter().map(|&n| n as f64 / total as f64).collect();
    shares.sort_by(f64::total_cmp);
    // The celebrity's shard: 0.30 + 0.70 x (its ring share, about 1/4).
    assert!(shares[3] > 0.40, "{shares:?}");
    assert!(shares[..3].iter().all(|&x| x < 0.25), "{shares:?}");
    // Shrinking from 4 to 3 shards on the ring moves only the removed shard's keys, about a quarter.
    s.apply(Change::Shards {
        node: "shards".into(),
        count: 3,
    })
    .unwrap();
    let moved = s.report().nodes["shards"]
        .shards
        .as_ref()
        .unwrap()
        .last_reshard_moved
        .unwrap();
    assert!((moved - 0.25).abs() < 0.08, "{moved}");
    s.step_until(70 * SEC).unwrap();
    let after = s.report();
    assert_eq!(after.nodes["shards"].shards.as_ref().unwrap().active, 3);
    assert!(
        s.apply(Change::Shards {
            node: "shards".into(),
            count: 9
        })
        .is_err()
    );
    assert!(
        s.apply(Change::Shards {
            node: "app".into(),
            count: 2
        })
        .is_err()
    );
}
