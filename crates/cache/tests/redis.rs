//! Against the real redis named by `TEST_REDIS_URL` (CI: redis://127.0.0.1:6379); each test uses
//! its own key prefix. Failure modes use a port where nothing listens, a listener that accepts
//! and never answers, and a proxy in front of the real redis that can be cut and restored.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use carematch_cache::fault::Proxy;
use carematch_cache::{
    BreakerState, CacheError, CacheOutcome, ChangeFeed, FeedMessage, RedisLink, RedisOptions,
    TwoTierCache, TwoTierCacheOptions,
};
use carematch_domain::ProviderId;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").ok();
    if url.is_none() {
        eprintln!("TEST_REDIS_URL is not set: skipping a test that needs redis");
    }
    url
}

fn options(url: &str) -> RedisOptions {
    RedisOptions {
        key_prefix: format!("carematch-test:{}:", uuid::Uuid::new_v4()),
        command_timeout: Duration::from_millis(150),
        connect_timeout: Duration::from_millis(300),
        breaker_failures: 2,
        breaker_open_for: Duration::from_millis(300),
        ..RedisOptions::new(url)
    }
}

fn compute(counter: &Arc<AtomicUsize>) -> impl Fn() -> std::future::Ready<Result<Vec<u8>, String>> {
    let counter = Arc::clone(counter);
    move || {
        counter.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(b"ranked".to_vec()))
    }
}

#[tokio::test]
async fn replicas_share_answers_through_redis() {
    let Some(url) = redis_url() else { return };
    let options = options(&url);
    let replica_a = TwoTierCache::new(
        &TwoTierCacheOptions::default(),
        Some(Arc::new(RedisLink::new(options.clone()).unwrap())),
    );
    let replica_b = TwoTierCache::new(
        &TwoTierCacheOptions::default(),
        Some(Arc::new(RedisLink::new(options).unwrap())),
    );
    let computed = Arc::new(AtomicUsize::new(0));
    let (_, first) = replica_a
        .get_or_compute("q1", compute(&computed))
        .await
        .unwrap();
    assert_eq!(first, CacheOutcome::Miss);
    // The write to redis is off the request path: wait for it to land.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (bytes, outcome) = replica_b
            .get_or_compute("q1", compute(&computed))
            .await
            .unwrap();
        if outcome == CacheOutcome::SharedHit {
            assert_eq!(bytes.as_slice(), b"ranked");
            break;
        }
        assert!(Instant::now() < deadline, "replica B never saw A's answer");
        replica_b.clear_local();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn nothing_listening_fails_fast_and_opens_the_breaker() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let link = Arc::new(RedisLink::new(options(&format!("redis://127.0.0.1:{port}"))).unwrap());
    let cache = TwoTierCache::new(&TwoTierCacheOptions::default(), Some(Arc::clone(&link)));
    let computed = Arc::new(AtomicUsize::new(0));
    for round in 0..5 {
        let started = Instant::now();
        let (bytes, outcome) = cache
            .get_or_compute(&format!("k{round}"), compute(&computed))
            .await
            .unwrap();
        assert_eq!(
            (bytes.as_slice(), outcome),
            (&b"ranked"[..], CacheOutcome::Miss)
        );
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(link.breaker_state(), BreakerState::Open);
    let started = Instant::now();
    assert!(matches!(link.get("x").await, Err(CacheError::BreakerOpen)));
    assert!(started.elapsed() < Duration::from_millis(10));
}

#[tokio::test]
async fn a_listener_that_never_answers_costs_one_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // Accept and hold every connection without a byte in reply.
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            connections.push(stream);
        }
    });
    let link = Arc::new(RedisLink::new(options(&format!("redis://{address}"))).unwrap());
    let cache = TwoTierCache::new(&TwoTierCacheOptions::default(), Some(Arc::clone(&link)));
    let computed = Arc::new(AtomicUsize::new(0));
    for round in 0..4 {
        let started = Instant::now();
        let (_, outcome) = cache
            .get_or_compute(&format!("k{round}"), compute(&computed))
            .await
            .unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
        // One command deadline (150 ms) at most, plus scheduling.
        assert!(
            started.elapsed() < Duration::from_millis(450),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(computed.load(Ordering::SeqCst), 4);
    assert_eq!(link.breaker_state(), BreakerState::Open);
    held.abort();
}

fn upstream(url: &str) -> String {
    url.trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test]
async fn the_cache_is_used_again_once_redis_is_back() {
    let Some(url) = redis_url() else { return };
    let proxy = Proxy::start(upstream(&url)).await;
    let link = Arc::new(RedisLink::new(options(&format!("redis://{}", proxy.address()))).unwrap());
    let key = link.key("probe");
    link.set(&key, b"1", Duration::from_secs(5)).await.unwrap();

    proxy.cut();
    // The proxy's connection tasks notice the cut within 10 ms.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..3 {
        let started = Instant::now();
        assert!(link.get(&key).await.is_err());
        assert!(started.elapsed() < Duration::from_millis(450));
    }
    assert_eq!(link.breaker_state(), BreakerState::Open);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(value)) = link.get(&key).await {
            assert_eq!(value, b"1");
            break;
        }
        assert!(Instant::now() < deadline, "redis was never used again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(link.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn change_events_reach_the_other_replicas_only() {
    let Some(url) = redis_url() else { return };
    let options = options(&url);
    let writer = ChangeFeed::new(
        Arc::new(RedisLink::new(options.clone()).unwrap()),
        "replica-a".into(),
    );
    let reader = ChangeFeed::new(
        Arc::new(RedisLink::new(options).unwrap()),
        "replica-b".into(),
    );
    let (writer_sender, mut writer_messages) = mpsc::channel(16);
    let (reader_sender, mut reader_messages) = mpsc::channel(16);
    let _writer_task = writer.subscribe(writer_sender);
    let _reader_task = reader.subscribe(reader_sender);
    for messages in [&mut writer_messages, &mut reader_messages] {
        let first = tokio::time::timeout(Duration::from_secs(5), messages.recv()).await;
        assert_eq!(first.unwrap(), Some(FeedMessage::Subscribed));
    }
    let upserted = ProviderId::parse("00000000-0000-4000-8000-000000000001").unwrap();
    let deleted = ProviderId::parse("00000000-0000-4000-8000-000000000002").unwrap();
    writer
        .publish(7, vec![upserted], vec![deleted])
        .await
        .unwrap();
    let received = tokio::time::timeout(Duration::from_secs(2), reader_messages.recv())
        .await
        .unwrap();
    match received {
        Some(FeedMessage::Change(event)) => {
            assert_eq!(event.origin, "replica-a");
            assert_eq!(event.generation, 7);
            assert_eq!(event.upserted, vec![upserted]);
            assert_eq!(event.deleted, vec![deleted]);
        }
        other => panic!("expected a change, got {other:?}"),
    }
    // The writer does not hear its own event.
    let own = tokio::time::timeout(Duration::from_millis(300), writer_messages.recv()).await;
    assert!(own.is_err(), "the writer received {own:?}");
}

#[tokio::test]
async fn a_subscriber_stays_subscribed_to_a_healthy_redis_across_many_pings() {
    let Some(url) = redis_url() else { return };
    let ping_interval = Duration::from_millis(150);
    let feed = ChangeFeed::new(
        Arc::new(RedisLink::new(options(&url)).unwrap()),
        "replica-a".into(),
    )
    .with_ping_interval(ping_interval);
    let (sender, mut messages) = mpsc::channel(16);
    let _task = feed.subscribe(sender);
    let first = tokio::time::timeout(Duration::from_secs(5), messages.recv()).await;
    assert_eq!(first.unwrap(), Some(FeedMessage::Subscribed));
    // Six ping intervals: a misread PING reply would have resubscribed (Lost, Subscribed) after
    // the first one.
    let next = tokio::time::timeout(ping_interval * 6, messages.recv()).await;
    assert!(
        next.is_err(),
        "the subscriber said {next:?} to a healthy redis"
    );
}
