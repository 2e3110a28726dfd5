//! Queue: at-least-once delivery.

use super::*;

#[test]
fn a_queue_delivers_at_least_once() {
    let text = include_str!("../../../topologies/queue-workers.ron");
    let run = |t: &str| {
        let mut s = sim(t, 22);
        s.step_until(600 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        r
    };
    let r = run(text);
    let q = r.nodes["receipts"].queue.as_ref().unwrap();
    // 1% of messages hang for 45 s, past the 30 s visibility timeout: each
    // is delivered again, and both copies finish (a second receipt), unless
    // the copy hangs too.
    let published = r.nodes["checkout"].completed as f64;
    assert!(
        (q.redelivered as f64 / published - 0.01).abs() < 0.003,
        "{} of {published}",
        q.redelivered
    );
    assert!(q.duplicates > 0 && q.duplicates <= q.redelivered, "{q:?}");
    assert_eq!(q.deduplicated, 0);
    // Idempotent workers: the same repeats, skipped.
    let r = run(&text.replace("idempotent: false", "idempotent: true"));
    let qi = r.nodes["receipts"].queue.as_ref().unwrap();
    assert_eq!((qi.duplicates, qi.deduplicated), (0, q.duplicates));

    // Failing deliveries are retried after the backoff, then dead-lettered:
    // 3 deliveries 1 s apart, so messages older than about 2 s are done.
    let t = r#"Topology(name: "dlq", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 20))],
        nodes: [Queue(id: "q", workers: 100, service: Constant("10ms"), max_deliveries: 3, backoff: "1s")])"#;
    let mut s = sim(t, 23);
    s.apply(Change::Errors {
        node: "q".into(),
        rate: 1.0,
    })
    .unwrap();
    s.step_until(60 * SEC).unwrap();
    let r = s.report();
    check_books(&r);
    let q = r.nodes["q"].queue.as_ref().unwrap();
    assert_eq!(q.processed, 0);
    let published = r.end_to_end.arrivals as f64;
    let expect = published * (60.0 - 2.02) / 60.0;
    assert!(
        (q.dead_lettered as f64 - expect).abs() < 0.02 * published,
        "{q:?} of {published}"
    );
    assert!(
        q.retried >= 2 * q.dead_lettered && q.retried <= 2 * q.dead_lettered + 80,
        "{q:?}"
    );
    assert_eq!(r.end_to_end.dropped, q.dead_lettered);
}

#[test]
fn visibility_timeouts_count_towards_max_deliveries() {
    // Every message takes 25 ms; its visibility timeout is 10 ms; enough
    // workers for no waiting. Delivery 1 starts at t, is visible again at
    // t + 10 ms (delivery 2) and t + 20 ms (delivery 3); delivery 1 finishes
    // at t + 25 ms and deletes the message, so delivery 3's timeout at
    // t + 30 ms finds nothing to make visible. With `max_deliveries` under
    // 3 the deliveries run out first: the message is dead-lettered when the
    // last one times out (audit s7 B16: ~380 deliveries per message). Every
    // copy taken finishes: 1 processed, the others repeats.
    let t = |max: u32| {
        format!(
            r#"Topology(name: "qd", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 10))],
            nodes: [Queue(id: "q", workers: 100, service: Constant("25ms"),
                          visibility_timeout: "10ms", max_deliveries: {max})])"#
        )
    };
    for max in [1u64, 2, 3, 5] {
        let mut s = sim(&t(max as u32), 24);
        s.step_until(60 * SEC).unwrap();
        let r = s.report();
        check_books(&r);
        let q = r.nodes["q"].queue.as_ref().unwrap().clone();
        // Deliveries per message: up to `max`, and never more than the 3
        // that start before the first finishes (at 0, 10 and 20 ms).
        let deliveries = max.min(3);
        let n = q.processed;
        assert!(n > 500, "{q:?}");
        // Messages near the warm-up's end or the run's end may be counted
        // on one side only: allow a few.
        let near = |a: u64, b: u64| a.abs_diff(b) <= 3;
        assert!(
            near(q.redelivered, (deliveries - 1) * n),
            "max {max}: {q:?}"
        );
        assert!(near(q.duplicates, (deliveries - 1) * n), "max {max}: {q:?}");
        let dead = if max < 3 { n } else { 0 };
        assert!(near(q.dead_lettered, dead), "max {max}: {q:?}");
        // Deliveries end: the queue holds nothing at the end but messages
        // published in the last 30 ms.
        assert!(
            r.nodes["q"].arrivals <= (deliveries + 1) * (n + 50),
            "{q:?}"
        );
    }
}
