//! The exit codes of `bdi`: documented, stable, and the only numbers a script has to know.

use std::process::ExitCode;

/// How a `bdi` command ended. The numbers are part of the interface: they never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExitStatus {
    /// The command did what was asked.
    Success = 0,
    /// Something failed on this machine (writing the output, a file that cannot be written).
    Failure = 1,
    /// The command line or an input file is wrong; nothing was sent upstream.
    Usage = 2,
    /// The platform or the configuration refused or failed the request.
    Api = 3,
    /// The run finished in failure, or the activation ended in error.
    RunFailed = 4,
    /// The platform, the Boomi Flow API or the local throttle refused the call for now (rate
    /// limited).
    Throttled = 5,
    /// The wait timed out or was cancelled; the work continues upstream.
    WaitIncomplete = 6,
    /// `bdi flows plan`: the environment differs from the documents (changes pending).
    ChangesPending = 7,
}

impl ExitStatus {
    /// Every status, in numeric order (for the documentation).
    pub const ALL: [Self; 8] = [
        Self::Success,
        Self::Failure,
        Self::Usage,
        Self::Api,
        Self::RunFailed,
        Self::Throttled,
        Self::WaitIncomplete,
        Self::ChangesPending,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// One line saying when the status is used.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "a local failure (writing the output or a file)",
            Self::Usage => "usage error: a wrong flag, argument or input file; nothing was sent",
            Self::Api => {
                "API or configuration error: the platform refused or failed the request, or bdi is not configured"
            }
            Self::RunFailed => {
                "the run finished in failure, or the activation ended in error (status E)"
            }
            Self::Throttled => {
                "throttled: rate limited by the platform, the Boomi Flow API or the local throttle; try again later"
            }
            Self::WaitIncomplete => {
                "the wait timed out or was cancelled (Ctrl-C); the work continues upstream"
            }
            Self::ChangesPending => {
                "changes pending: `bdi flows plan` found the environment differs from the documents"
            }
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(status.code())
    }
}
