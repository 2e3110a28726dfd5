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
