//! The lab's input data: the two files of `../shared/workloads.md`, generated
//! deterministically (same bytes on every machine) and read back with clear errors.
//!
//! - [`transactions`]: `transactions.csv`, sales rows (W4 groupby, exercises 1, 2, 5);
//! - [`corpus`]: `corpus.txt`, Zipf-distributed pseudo-words (W7 wordcount, exercise 3);
//! - [`chunks`]: splitting a file into byte ranges on line boundaries, so that several
//!   workers (threads, processes, hosts) can each read their own part.
//!
//! Generation streams to disk through a buffered writer into a temporary file that is
//! renamed at the end: memory stays flat whatever the size, and an interrupted run
//! never leaves a truncated file behind.

pub mod chunks;
pub mod corpus;
pub mod samples;
pub mod transactions;
pub mod words;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// File name of the transactions table inside the data directory.
pub const TRANSACTIONS_FILE: &str = "transactions.csv";
/// File name of the text corpus inside the data directory.
pub const CORPUS_FILE: &str = "corpus.txt";

/// Default number of rows of the reference transactions table (workloads.md).
pub const DEFAULT_ROWS: u64 = 1_000_000;
/// Default corpus size in megabytes (10^6 bytes) of the reference corpus.
pub const DEFAULT_CORPUS_MB: u64 = 100;
/// Rows of the small transactions file shipped in `data/`.
pub const SHIPPED_ROWS: u64 = 10_000;
/// Size in megabytes of the small corpus shipped in `data/`.
pub const SHIPPED_CORPUS_MB: u64 = 1;

/// Path of the transactions file in `data_dir`, or a [`Error::MissingData`] that
/// tells how to generate it.
pub fn transactions_path(data_dir: &Path) -> Result<PathBuf> {
    existing(data_dir.join(TRANSACTIONS_FILE))
}

/// Path of the corpus file in `data_dir`, or a [`Error::MissingData`] that tells how
/// to generate it.
pub fn corpus_path(data_dir: &Path) -> Result<PathBuf> {
    existing(data_dir.join(CORPUS_FILE))
}

fn existing(path: PathBuf) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::MissingData { path })
    }
}

/// Refuses sizes that are zero or that the machine cannot hold on disk, before any
/// work starts. `bytes` is the expected size of what `what` names (a file, or several
/// files together); the free space is that of the file system holding `dir`.
pub fn check_output_size(what: &str, bytes: u64, dir: &Path) -> Result<()> {
    if bytes == 0 {
        return Err(Error::InvalidParameter(format!(
            "la taille de {what} doit être strictement positive"
        )));
    }
    // Refuse more than 1 TB outright: it is a typo, not a lab experiment.
    if bytes > 1_000_000_000_000 {
        return Err(Error::InvalidParameter(format!(
            "{what} : {} demandés, plus que le maximum de 1 To : c'est sûrement une faute de \
             frappe (le grand jeu de données du TP fait 100 Mo de texte : --mo 100)",
            crate::fr::bytes(bytes)
        )));
    }
    if let Some(free) = crate::machine::free_disk_bytes(dir) {
        if bytes > free {
            return Err(Error::InvalidParameter(format!(
                "{what} : {} demandés, mais il ne reste que {} libres dans {} : réduisez la taille \
                 ou choisissez un autre dossier avec --data",
                crate::fr::bytes(bytes),
                crate::fr::bytes(free),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Refuses to generate into `dir` when it already holds a data file: `donnees`
/// replaces files only with `--remplacer`, so that the small files shipped in
/// `data/` (and a teacher's own files) are never overwritten by accident.
pub fn refuse_to_replace(dir: &Path) -> Result<()> {
    for name in [TRANSACTIONS_FILE, CORPUS_FILE] {
        let path = dir.join(name);
        if path.exists() {
            return Err(Error::InvalidParameter(format!(
                "{} existe déjà : `donnees` ne remplace pas des fichiers de données sans \
                 l'option --remplacer\n  → pour le grand jeu de données, générez-le dans son \
                 propre dossier : `tp4 --data {} donnees` ; pour remplacer ces fichiers : \
                 `tp4 --data {} donnees --remplacer`",
                path.display(),
                dir.join("grand").display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Generates both data files into `dir` (transactions of `rows` rows, corpus of
/// `megabytes` MB), with progress bars when `progress` is true. Sizes are checked
/// before any work; each file is written atomically.
pub fn generate_files(
    dir: &Path,
    rows: u64,
    megabytes: u64,
    progress: bool,
) -> Result<Vec<PathBuf>> {
    if rows == 0 || megabytes == 0 {
        return Err(Error::InvalidParameter(
            "--lignes et --mo doivent être strictement positifs (exemple : --lignes 10000 --mo 1)"
                .into(),
        ));
    }
    if rows > 10_000_000_000 || megabytes > 1_000_000 {
        return Err(Error::InvalidParameter(format!(
            "taille absurde : {rows} lignes, {megabytes} Mo (maximum 10^10 lignes et 10^6 Mo)"
        )));
    }
    crate::output::ensure_writable_dir(dir)?;
    let (t_bytes, c_bytes) = (transactions::estimated_bytes(rows), megabytes * 1_000_000);
    check_output_size("transactions.csv", t_bytes, dir)?;
    check_output_size("corpus.txt", c_bytes, dir)?;
    check_output_size(
        "transactions.csv et corpus.txt ensemble",
        t_bytes + c_bytes,
        dir,
    )?;

    // Both files are generated into a staging folder, then moved in: an interrupted
    // run leaves the old data set whole, never a new file beside an old one.
    let staging = dir.join(format!(".tp4-donnees-{}.tmp", std::process::id()));
    let _pending = crate::output::Pending::new(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| Error::io("création du dossier", &staging, e))?;
    let t_path = staging.join(TRANSACTIONS_FILE);
    let bar = if progress {
        crate::progress::steps(rows, "transactions.csv (lignes)")
    } else {
        crate::progress::hidden()
    };
    transactions::generate(&t_path, rows, |n| bar.set_position(n))?;
    bar.finish_and_clear();

    let c_path = staging.join(CORPUS_FILE);
    let bar = if progress {
        crate::progress::bytes(megabytes * 1_000_000, "corpus.txt")
    } else {
        crate::progress::hidden()
    };
    corpus::generate(&c_path, megabytes, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let (t_path, c_path) = (dir.join(TRANSACTIONS_FILE), dir.join(CORPUS_FILE));
    for (from, to) in [
        (staging.join(TRANSACTIONS_FILE), &t_path),
        (staging.join(CORPUS_FILE), &c_path),
    ] {
        std::fs::rename(&from, to).map_err(|e| Error::io("écriture de", to, e))?;
    }
    let _ = std::fs::remove_dir_all(&staging);
    if progress {
        for p in [&t_path, &c_path] {
            let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            println!(
                "écrit : {} ({})",
                p.display(),
                crate::alloc::human_bytes(size)
            );
        }
    }
    Ok(vec![t_path, c_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files shipped in `data/` are exactly what the generator writes at their
    /// sizes: anyone can regenerate them, and nobody edited them by hand.
    #[test]
    fn shipped_files_are_regenerated_byte_for_byte() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let dir = tempfile::tempdir().unwrap();
        generate_files(dir.path(), SHIPPED_ROWS, SHIPPED_CORPUS_MB, false).unwrap();
        for name in [TRANSACTIONS_FILE, CORPUS_FILE] {
            let a = std::fs::read(shipped.join(name)).unwrap();
            let b = std::fs::read(dir.path().join(name)).unwrap();
            assert!(a == b, "{name} differs from what `tp4 donnees` generates");
        }
    }

    #[test]
    fn zero_and_absurd_sizes_are_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        for (rows, mb) in [(0, 1), (10, 0), (u64::MAX, 1), (10, u64::MAX / 2)] {
            let err = generate_files(dir.path(), rows, mb, false).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter(_)), "{err}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
