//! Faults on demand for tests (feature `test-support`): a TCP proxy in front of redis that can
//! be cut (every connection closed, new ones refused) and restored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy in front of redis that can be cut (closing every connection and refusing new
/// ones) and restored.
pub struct Proxy {
    address: std::net::SocketAddr,
    open: Arc<AtomicBool>,
    generation: Arc<AtomicUsize>,
}

impl Proxy {
    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }

    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("bound");
        let open = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicUsize::new(0));
        let (accept_open, accept_generation) = (Arc::clone(&open), Arc::clone(&generation));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_open.load(Ordering::SeqCst) {
                    let _ = client.shutdown().await;
                    continue;
                }
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let born = accept_generation.load(Ordering::SeqCst);
                let generation = Arc::clone(&accept_generation);
                tokio::spawn(async move {
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while generation.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, () = cut => {} }
                });
            }
        });
        Self {
            address,
            open,
            generation,
        }
    }

    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}
