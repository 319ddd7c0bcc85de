//! Where a run of the lab reads and writes, which worker counts it measures and
//! whether it shows progress: the one value every demonstration, `tp4 bench` and
//! the whole lab receive.

use crate::error::Result;
use crate::output;
use std::path::{Path, PathBuf};

/// Where the lab reads and writes, and how it reports progress.
#[derive(Debug, Clone)]
pub struct Context {
    /// The data directory (`--data`, default `data`).
    pub data: PathBuf,
    /// The output directory (`--output`, default `output`).
    pub output: PathBuf,
    /// Worker counts to measure (default: 1..=usable CPUs, at least 1 and 2).
    pub workers: Vec<usize>,
    /// Show progress bars (on stderr, only on a terminal).
    pub progress: bool,
}

impl Context {
    /// A context with the default worker counts.
    pub fn new(data: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        Context {
            data: data.into(),
            output: output.into(),
            workers: crate::machine::default_worker_counts(),
            progress: true,
        }
    }

    /// The default context on given folders, without progress bars and with
    /// workers 1 and 2: what tests and the notebook use.
    pub fn quiet(data: &Path, output: &Path) -> Self {
        Context {
            data: data.to_path_buf(),
            output: output.to_path_buf(),
            workers: vec![1, 2],
            progress: false,
        }
    }

    /// A path inside the output directory.
    pub fn out(&self, name: &str) -> PathBuf {
        self.output.join(name)
    }

    /// Checks, before any work, that the output directory is writable and that the
    /// data files exist.
    pub fn preflight(&self) -> Result<()> {
        output::ensure_writable_dir(&self.output)?;
        crate::data::transactions_path(&self.data)?;
        crate::data::corpus_path(&self.data)?;
        Ok(())
    }

    /// A step progress bar, hidden when progress is off.
    pub fn steps(&self, len: u64, message: &str) -> indicatif::ProgressBar {
        if self.progress {
            crate::progress::steps(len, message)
        } else {
            crate::progress::hidden()
        }
    }
}
