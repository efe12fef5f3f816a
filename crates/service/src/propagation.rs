//! Keeping this replica's index in step with the others: apply their change events as they
//! arrive, and catch up from the database periodically, at every (re)subscription and as soon
//! as a missed event is noticed. Runs for the life of the process.

use std::sync::Arc;
use std::time::Duration;

use carematch_cache::{BreakerState, ChangeFeed, FeedMessage, RedisLink};
use tokio::sync::mpsc;

use crate::directory::ProviderDirectory;
use crate::readiness::{Readiness, RedisStatus};

/// How propagation runs.
#[derive(Debug, Clone)]
pub struct PropagationOptions {
    /// The catch-up period: the longest a write stays unseen here when events are lost.
    pub catch_up_interval: Duration,
}

/// Starts applying changes and catching up, for as long as the process runs. `redis` and
/// `feed` are present when redis is configured; readiness gets redis's status from here.
pub fn start(
    directory: ProviderDirectory,
    feed: Option<ChangeFeed>,
    redis: Option<Arc<RedisLink>>,
    readiness: Arc<Readiness>,
    options: PropagationOptions,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (sender, mut messages) = mpsc::channel::<FeedMessage>(1_024);
        let _subscriber = feed.as_ref().map(|feed| feed.subscribe(sender.clone()));
        // Keeps the channel open when there is no feed, so `recv` just waits.
        let _keep_open = sender;
        let mut subscribed = false;
        let mut failures = 0;
        let mut period = tokio::time::interval(options.catch_up_interval);
        period.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                Some(message) = messages.recv() => match message {
                    FeedMessage::Change(event) => {
                        if let Some(published_at) = event.published_at_ms {
                            let lag = chrono::Utc::now().timestamp_millis() - published_at;
                            metrics::histogram!("carematch_change_propagation_lag_seconds")
                                .record(lag.max(0) as f64 / 1_000.0);
                        }
                        if let Err(error) = directory
                            .apply_change(event.generation, &event.upserted, &event.deleted)
                            .await
                        {
                            tracing::warn!(%error, "applying a change event failed; catching up");
                            directory.request_catch_up();
                        }
                    }
                    FeedMessage::Subscribed => {
                        subscribed = true;
                        directory.request_catch_up();
                    }
                    FeedMessage::Lost => subscribed = false,
                },
                () = directory.catch_up_requested() => run_catch_up(&directory, &readiness, &mut failures).await,
                _ = period.tick() => {
                    run_catch_up(&directory, &readiness, &mut failures).await;
                    if let Some(redis) = &redis {
                        let healthy = subscribed && redis.breaker_state() == BreakerState::Closed
                            && redis.ping().await.is_ok();
                        readiness.set_redis(if healthy { RedisStatus::Up } else { RedisStatus::Down });
                    }
                }
            }
        }
    })
}

/// Catch-ups that fail in a row before this replica says it is behind: one database blip
/// must not take every replica out of rotation at once.
const FAILURES_BEFORE_BEHIND: u32 = 3;

async fn run_catch_up(directory: &ProviderDirectory, readiness: &Readiness, failures: &mut u32) {
    match directory.catch_up().await {
        Ok(report) => {
            *failures = 0;
            readiness.set_caught_up(true);
            metrics::counter!("carematch_catch_up_runs_total", "outcome" => "ok").increment(1);
            if report.upserted + report.deleted > 0 {
                tracing::debug!(
                    upserted = report.upserted,
                    deleted = report.deleted,
                    generation = report.generation,
                    "caught up with the database"
                );
            }
        }
        Err(error) => {
            *failures += 1;
            if *failures >= FAILURES_BEFORE_BEHIND {
                readiness.set_caught_up(false);
            }
            metrics::counter!("carematch_catch_up_runs_total", "outcome" => "error").increment(1);
            tracing::warn!(%error, "catching up with the database failed; retrying");
        }
    }
}
