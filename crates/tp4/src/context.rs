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
    /// The output folder to name in messages when `output` is a staging folder
    /// inside it (see `lab::run_all_staged`).
    pub shown_output: Option<PathBuf>,
}

impl Context {
    /// A context with the default worker counts.
    pub fn new(data: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        Context {
            data: data.into(),
            output: output.into(),
            workers: crate::machine::default_worker_counts(),
            progress: true,
            shown_output: None,
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
            shown_output: None,
        }
    }

    /// The output folder as the user named it (not the staging folder of a run).
    pub fn shown_output(&self) -> &Path {
        self.shown_output.as_deref().unwrap_or(&self.output)
    }

    /// A path inside the output directory.
    pub fn out(&self, name: &str) -> PathBuf {
        self.output.join(name)
    }

    /// Checks, before any work, that the output directory is writable and that the
    /// data files exist and can be read: every row of `transactions.csv` is parsed
    /// (header, fields, at least one row; about a second for a million rows) and the
    /// corpus is opened and its first block read, so that bad input is reported at
    /// once rather than after minutes of measurements.
    pub fn preflight(&self) -> Result<()> {
        self.check_data()?;
        output::ensure_writable_dir(&self.output)
    }

    /// The data half of [`Context::preflight`], which creates nothing: a run started
    /// from the wrong folder fails here without leaving an empty `output/` behind.
    pub fn check_data(&self) -> Result<()> {
        let transactions = crate::data::transactions_path(&self.data)?;
        let corpus = crate::data::corpus_path(&self.data)?;
        crate::data::transactions::for_each_row(&transactions, |_| {})?;
        check_readable(&corpus)
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

/// Opens `path` and reads its first block: a file that exists but cannot be read
/// (rights, a folder, an I/O error) is reported before any work.
fn check_readable(path: &std::path::Path) -> Result<()> {
    use std::io::Read;
    let mut first = vec![0u8; 64 * 1024];
    std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut first))
        .map(|_| ())
        .map_err(|e| crate::Error::io("lecture de", path, e))
}
