//! The progress display of `--wait`: a spinner on stderr with the status and the elapsed time,
//! shown only when stderr is a terminal, and Ctrl-C turned into a cancelled wait.

use std::sync::Arc;
use std::time::Duration;

use bdi_domain::poll::{Progress, ProgressFn};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

/// A spinner that lives for one wait.
#[derive(Debug)]
pub(crate) struct Spinner {
    bar: ProgressBar,
}

impl Spinner {
    /// A spinner labelled `label`; hidden unless `visible` (stderr is a terminal).
    pub(crate) fn new(visible: bool, label: &str) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        let style = ProgressStyle::with_template("{spinner} {prefix} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        bar.set_message("starting");
        if visible {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Self { bar }
    }

    /// The callback the domain's poller calls on each poll.
    pub(crate) fn callback(&self) -> ProgressFn {
        let bar = self.bar.clone();
        Arc::new(move |p: Progress| bar.set_message(describe(&p)))
    }

    /// Removes the spinner from the terminal.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

fn describe(p: &Progress) -> String {
    if p.message.is_empty() {
        p.status.clone()
    } else {
        p.message.clone()
    }
}

/// Cancels `token` on Ctrl-C until the returned guard is dropped.
#[derive(Debug)]
pub(crate) struct CtrlC {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl CtrlC {
    /// Listens for Ctrl-C when `listen`; a no-op guard otherwise.
    pub(crate) fn listen(listen: bool, token: &CancellationToken) -> Self {
        if !listen {
            return Self { task: None };
        }
        let token = token.clone();
        // On Unix the handler is in place before this returns: a Ctrl-C right after (before the
        // task first runs) still cancels rather than kills.
        #[cfg(unix)]
        let task = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
            Ok(mut interrupt) => tokio::spawn(async move {
                if interrupt.recv().await.is_some() {
                    token.cancel();
                }
            }),
            Err(_) => return Self { task: None },
        };
        #[cfg(not(unix))]
        let task = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                token.cancel();
            }
        });
        Self { task: Some(task) }
    }
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
