//! Progress bars (indicatif) for long work, drawn on stderr and only when stderr is
//! a terminal: redirected output, CI logs and `--json` runs stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting steps (`pos/len`), with a French message.
pub fn steps(len: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg:<40} [{bar:30.cyan/blue}] {pos}/{len} ({elapsed})")
            .expect("valid template")
            .progress_chars("█▉▊▋▌▍▎▏ "),
    );
    bar.set_message(message.into());
    bar
}

/// A bar counting bytes, for data generation and file reading.
pub fn bytes(len: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:<28} [{bar:30.cyan/blue}] {bytes}/{total_bytes} ({bytes_per_sec}, reste {eta})",
        )
        .expect("valid template")
        .progress_chars("█▉▊▋▌▍▎▏ "),
    );
    bar.set_message(message.into());
    bar
}

/// A bar that draws nothing (for `--json` and the notebook).
pub fn hidden() -> ProgressBar {
    ProgressBar::hidden()
}
