use super::*;

#[test]
fn parses_the_k6_vocabulary() {
    let t = Threshold::parse("p99(end_to_end) < 200ms").unwrap();
    assert_eq!(
        (t.metric.name, t.node.as_deref(), t.op, t.limit, t.window),
        ("p99", None, Op::Lt, 200.0, Window::Whole)
    );
    let t = Threshold::parse("error_rate < 0.1%").unwrap();
    assert!((t.limit - 0.001).abs() < 1e-12);
    let t = Threshold::parse("utilization(\"db\") < 0.8 during 2m..10m").unwrap();
    assert_eq!(t.node.as_deref(), Some("db"));
    assert_eq!(
        t.window,
        Window::During(
            Duration::parse("2m").unwrap(),
            Some(Duration::parse("10m").unwrap())
        )
    );
    let t = Threshold::parse("hit_ratio(cache) >= 0.85 during 1m..").unwrap();
    assert_eq!(
        t.window,
        Window::During(Duration::parse("1m").unwrap(), None)
    );
    let t = Threshold::parse("stale_reads(replica-1) == 0").unwrap();
    assert_eq!((t.op, t.limit), (Op::Eq, 0.0));
    let t = Threshold::parse("error_rate < 1% after recovery within 30s").unwrap();
    assert_eq!(
        t.window,
        Window::AfterRecovery(Duration::parse("30s").unwrap())
    );
    let t = Threshold::parse("p99 <= 1.5s").unwrap();
    assert_eq!(t.limit, 1500.0);
}

#[test]
fn explains_mistakes() {
    let e = |s: &str| Threshold::parse(s).unwrap_err().to_string();
    assert!(
        e("p99 < 200").contains("write `200ms`"),
        "{}",
        e("p99 < 200")
    );
    assert!(e("utilisation(db) < 0.8").contains("did you mean `utilization`"));
    assert!(e("utilization < 0.8").contains("which node"));
    assert!(e("amplification(db) < 2").contains("end to end"));
    assert!(e("p99 200ms").contains("no comparison"));
    assert!(e("p99 => 200ms").contains("not a comparison"));
    assert!(e("throughput > 5%").contains("not a ratio"));
    assert!(e("error_rate < 0.1 during 5m..2m").contains("ends before"));
    assert!(e("error_rate < 0.1 after 30s").contains("recovery within"));
    assert!(e("utilization(db < 0.8").contains("does not close"));
    assert!(e("error_rate <").contains("no value"));
}

#[test]
fn compares_and_shows() {
    assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0) && Op::Le.holds(2.0, 2.0));
    assert!(Op::Ne.holds(1.0, 0.0) && Op::Eq.holds(0.0, 0.0) && Op::Ge.holds(3.0, 3.0));
    assert_eq!(show(Unit::Ratio, 0.0043), "0.43%");
    assert_eq!(show(Unit::Ms, 212.0), "212ms");
    assert_eq!(show(Unit::Rps, 1250.4), "1,250 rps");
    assert_eq!(show(Unit::Count, 3.0), "3");
    // A failing `< 10s` must not show `10s`.
    assert_eq!(show(Unit::Ms, 10_301.0), "10.3s");
    assert_eq!(show(Unit::Ms, 125_000.0), "125s");
}
