//! The change feed between replicas: after a provider write commits, the writing replica
//! publishes which providers changed (ids only, never provider data) and the database's new
//! generation; every other replica applies the change to its own index.
//!
//! Pub/sub delivers at most once: a replica that was disconnected misses events. The
//! subscriber therefore reports every (re)connection, and its consumer catches up from the
//! database then; a periodic catch-up covers the rest.

use std::sync::Arc;
use std::time::Duration;

use carematch_domain::ProviderId;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::error::CacheError;
use crate::link::RedisLink;

/// The channel name, after the key prefix.
const CHANNEL: &str = "changes";
/// How often a subscribed connection is pinged by default, so a silent server is noticed.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(5);
/// Waits between reconnection attempts, doubling up to the last.
const BACKOFF: [Duration; 5] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// Providers written or deleted by one committed write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeEvent {
    /// The replica that wrote it (it has applied the change already).
    pub origin: String,
    /// The database's data generation after the write.
    pub generation: u64,
    /// When it was published (milliseconds since the epoch), for the propagation-lag metric.
    #[serde(default)]
    pub published_at_ms: Option<i64>,
    #[serde(default)]
    pub upserted: Vec<ProviderId>,
    #[serde(default)]
    pub deleted: Vec<ProviderId>,
}

/// What the subscriber tells its consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedMessage {
    /// Subscribed (again): events may have been missed before this, catch up.
    Subscribed,
    /// The subscription broke; until `Subscribed`, rely on the periodic catch-up.
    Lost,
    /// Another replica's change.
    Change(ChangeEvent),
}

/// Publishes and receives change events over redis pub/sub.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    link: Arc<RedisLink>,
    origin: String,
    /// How often the subscribed connection is pinged.
    ping_interval: Duration,
}

impl ChangeFeed {
    /// `origin`: this replica's id, unique per process.
    pub fn new(link: Arc<RedisLink>, origin: String) -> Self {
        Self {
            link,
            origin,
            ping_interval: DEFAULT_PING_INTERVAL,
        }
    }

    /// Pings the subscribed connection this often instead of [`DEFAULT_PING_INTERVAL`].
    pub fn with_ping_interval(mut self, ping_interval: Duration) -> Self {
        self.ping_interval = ping_interval;
        self
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Tells the other replicas about a committed write. Failing is survivable: their
    /// periodic catch-up finds the write in the database.
    pub async fn publish(
        &self,
        generation: u64,
        upserted: Vec<ProviderId>,
        deleted: Vec<ProviderId>,
    ) -> Result<(), CacheError> {
        let event = ChangeEvent {
            origin: self.origin.clone(),
            generation,
            published_at_ms: Some(now_millis()),
            upserted,
            deleted,
        };
        let payload = serde_json::to_vec(&event)?;
        self.link.publish(CHANNEL, &payload).await?;
        metrics::counter!("carematch_change_events_published_total").increment(1);
        Ok(())
    }

    /// Subscribes in the background, for as long as `messages` has a receiver, reconnecting
    /// with backoff. Own events are dropped here.
    pub fn subscribe(&self, messages: mpsc::Sender<FeedMessage>) -> tokio::task::JoinHandle<()> {
        let feed = self.clone();
        tokio::spawn(async move { feed.run_subscriber(messages).await })
    }

    async fn run_subscriber(self, messages: mpsc::Sender<FeedMessage>) {
        let channel = self.link.key(CHANNEL);
        let deadline = self.link.options().connect_timeout;
        let mut attempt = 0usize;
        loop {
            if messages.is_closed() {
                return;
            }
            let connected = tokio::time::timeout(deadline, async {
                let mut pubsub = self.link.client().get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            })
            .await;
            let pubsub = match connected {
                Ok(Ok(pubsub)) => pubsub,
                failed => {
                    if attempt == 0 {
                        let reason = match failed {
                            Ok(Err(error)) => error.to_string(),
                            _ => format!("no answer within {deadline:?}"),
                        };
                        tracing::warn!(%reason, "change feed: cannot subscribe to redis; retrying, catch-up covers the gap");
                    }
                    tokio::time::sleep(BACKOFF[attempt.min(BACKOFF.len() - 1)]).await;
                    attempt += 1;
                    continue;
                }
            };
            attempt = 0;
            metrics::gauge!("carematch_change_feed_connected").set(1.0);
            if messages.send(FeedMessage::Subscribed).await.is_err() {
                return;
            }
            self.receive(pubsub, &messages).await;
            metrics::gauge!("carematch_change_feed_connected").set(0.0);
            if messages.send(FeedMessage::Lost).await.is_err() {
                return;
            }
            tokio::time::sleep(BACKOFF[0]).await;
        }
    }

    /// Forwards events until the connection breaks or stops answering pings.
    async fn receive(&self, pubsub: redis::aio::PubSub, messages: &mpsc::Sender<FeedMessage>) {
        let (mut sink, mut stream) = pubsub.split();
        let mut ping = tokio::time::interval(self.ping_interval);
        ping.tick().await;
        let command_timeout = self
            .link
            .options()
            .command_timeout
            .max(Duration::from_secs(1));
        loop {
            tokio::select! {
                message = stream.next() => {
                    let Some(message) = message else { return };
                    match serde_json::from_slice::<ChangeEvent>(message.get_payload_bytes()) {
                        Ok(event) if event.origin == self.origin => {}
                        Ok(event) => {
                            metrics::counter!("carematch_change_events_received_total").increment(1);
                            if messages.send(FeedMessage::Change(event)).await.is_err() {
                                return;
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "change feed: ignoring a malformed event");
                        }
                    }
                }
                _ = ping.tick() => {
                    // Any reply will do: a subscribed connection answers PING with
                    // `["pong", ""]` under RESP2 and `PONG` under RESP3. Reading it as a
                    // string failed on every ping against a healthy redis 7 (RESP2), which
                    // resubscribed every interval.
                    let answered = tokio::time::timeout(command_timeout, sink.ping::<redis::Value>()).await;
                    match answered {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "change feed: redis answered the ping with an error; resubscribing");
                            return;
                        }
                        Err(_) => {
                            tracing::warn!("change feed: redis stopped answering; resubscribing");
                            return;
                        }
                    }
                }
                () = messages.closed() => return,
            }
        }
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}
