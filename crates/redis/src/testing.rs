//! Test support (feature `testing`): a TCP forwarder to a Redis server that can be cut and
//! restored on the same port, so that a test sees Redis go away and come back as replicas do.

use std::sync::{Arc, Mutex};

/// A forwarder on a loopback port of its own to the Redis of `redis://host:port/...`.
#[derive(Debug)]
pub struct Cable {
    /// The port clients connect to instead of Redis's.
    pub port: u16,
    target: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Cable {
    /// A forwarder to the server of `redis_url`, plugged in.
    pub async fn new(redis_url: &str) -> Self {
        let target = redis_url
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .expect("host:port")
            .to_owned();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let mut cable = Self {
            port,
            target,
            tasks: Vec::new(),
            connections: Arc::default(),
        };
        cable.plug().await;
        cable
    }

    /// The URL that reaches Redis through the forwarder (database 0).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Listens again: new connections reach Redis.
    pub async fn plug(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the port is free again");
        let (target, connections) = (self.target.clone(), Arc::clone(&self.connections));
        self.tasks.push(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().expect("lock").push(task);
            }
        }));
    }

    /// Stops listening and drops every open connection.
    pub fn cut(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        for c in self.connections.lock().expect("lock").drain(..) {
            c.abort();
        }
    }
}
